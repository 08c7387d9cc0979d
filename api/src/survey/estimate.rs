//! Survey estimation, exactly as the observatory states it: weighted shares over a question's base, counts, the
//! effective sample size and Wilson score intervals, nets, the share a report left unaccounted, and the small-base
//! rules with complementary hiding. Pure: respondents, answers and published shares in, results out.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The 97.5th percentile of the standard normal distribution: a 95 % interval.
pub const Z: f64 = 1.959_964;
/// Below this many respondents in a base, a share is withheld from the public and associations.
pub const MINIMUM_BASE: u64 = 30;
/// Below this many, a share is flagged as of low reliability for everyone.
pub const RELIABLE_BASE: u64 = 50;
/// Institution surveys: a group of fewer institutions is withheld from the public and associations.
pub const MINIMUM_INSTITUTIONS: u64 = 5;

/// A dimension survey results are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    Association,
    Region,
    Gender,
    Area,
    Segment,
    Activity,
    StaffLevel,
}

impl Dimension {
    pub const ALL: [Dimension; 7] = [
        Dimension::Association,
        Dimension::Region,
        Dimension::Gender,
        Dimension::Area,
        Dimension::Segment,
        Dimension::Activity,
        Dimension::StaffLevel,
    ];
}

/// A respondent's characteristics (only those the survey holds are set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Group {
    pub association: Option<i32>,
    pub region: Option<i32>,
    pub gender: Option<String>,
    pub area: Option<String>,
    pub segment: Option<String>,
    pub activity: Option<String>,
    pub staff_level: Option<String>,
}

impl Group {
    /// The part of the group on `dims` alone (the others unset).
    pub fn on(&self, dims: &[Dimension]) -> Group {
        let keep = |d: Dimension| dims.contains(&d);
        Group {
            association: self.association.filter(|_| keep(Dimension::Association)),
            region: self.region.filter(|_| keep(Dimension::Region)),
            gender: self.gender.clone().filter(|_| keep(Dimension::Gender)),
            area: self.area.clone().filter(|_| keep(Dimension::Area)),
            segment: self.segment.clone().filter(|_| keep(Dimension::Segment)),
            activity: self.activity.clone().filter(|_| keep(Dimension::Activity)),
            staff_level: self.staff_level.clone().filter(|_| keep(Dimension::StaffLevel)),
        }
    }

    /// Whether the group has a value on `dim`.
    pub fn has(&self, dim: Dimension) -> bool {
        match dim {
            Dimension::Association => self.association.is_some(),
            Dimension::Region => self.region.is_some(),
            Dimension::Gender => self.gender.is_some(),
            Dimension::Area => self.area.is_some(),
            Dimension::Segment => self.segment.is_some(),
            Dimension::Activity => self.activity.is_some(),
            Dimension::StaffLevel => self.staff_level.is_some(),
        }
    }
}

/// What kind of answer an option is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    Substantive,
    Other,
    DontKnow,
    Refused,
    NotApplicable,
}

/// An option of a question.
#[derive(Debug, Clone)]
pub struct OptionDef {
    pub code: String,
    pub kind: OptionKind,
    /// The option it is nested in ("deteriorated severely" inside "deteriorated").
    pub parent: Option<String>,
}

/// A question: its options and nets.
#[derive(Debug, Clone)]
pub struct QuestionDef {
    pub code: String,
    pub multiple: bool,
    pub options: Vec<OptionDef>,
    /// Net code → the options it groups.
    pub nets: Vec<(String, Vec<String>)>,
}

/// One respondent of the microdata.
#[derive(Debug, Clone)]
pub struct Respondent {
    pub id: i64,
    pub weight: f64,
    pub group: Group,
}

/// An estimate of one option or net in one group.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    /// Percent of the (weighted) base; `None` when not known or withheld.
    pub share: Option<f64>,
    /// Respondents who chose it (unweighted).
    pub count: Option<u64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

/// Why a result is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Fewer respondents in the base than the minimum.
    LowBase,
    /// Fewer institutions than the minimum.
    FewInstitutions,
    /// Hidden so that a withheld sibling cannot be worked out from the total.
    Complementary,
}

/// One group's result for one question.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupResult {
    pub group: Group,
    /// Respondents in the base (unweighted); `None` for published shares of unknown base.
    pub base: Option<u64>,
    pub weighted_base: Option<f64>,
    /// (Σw)² ÷ Σw².
    pub effective_base: Option<f64>,
    /// Respondents in the universe who answered "don't know" or refused (left out of the base).
    pub non_response: Option<u64>,
    pub options: Vec<(String, Estimate)>,
    pub nets: Vec<(String, Estimate)>,
    /// 100 − Σ the printed shares, for published single-choice shares that do not add up.
    pub unaccounted_share: Option<f64>,
    pub suppressed: bool,
    pub reason: Option<Reason>,
    pub below_minimum_base: bool,
    pub low_reliability: bool,
}

/// The Wilson score interval of a proportion `p` (0 to 1) over `n` respondents, in percent.
pub fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z2 = Z * Z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    (((centre - half) * 100.0).max(0.0), ((centre + half) * 100.0).min(100.0))
}

/// The results of a question from its microdata, per group of `dims` (one sector row for none). `answers`: each
/// respondent's options for the question (a respondent without any was not asked: outside the universe).
pub fn from_microdata(
    question: &QuestionDef,
    respondents: &[Respondent],
    answers: &HashMap<i64, Vec<String>>,
    dims: &[Dimension],
    include_non_response: bool,
    census: bool,
) -> Vec<GroupResult> {
    let kind_of = |code: &str| question.options.iter().find(|o| o.code == code).map(|o| o.kind);
    let mut groups: BTreeMap<Group, Vec<(&Respondent, &Vec<String>)>> = BTreeMap::new();
    for respondent in respondents {
        let Some(chosen) = answers.get(&respondent.id) else {
            continue;
        };
        if chosen.iter().all(|c| kind_of(c) == Some(OptionKind::NotApplicable)) {
            continue;
        }
        groups
            .entry(respondent.group.on(dims))
            .or_default()
            .push((respondent, chosen));
    }
    let mut out = Vec::new();
    for (group, members) in groups {
        let non_response: Vec<bool> = members
            .iter()
            .map(|(_, chosen)| {
                chosen
                    .iter()
                    .all(|c| matches!(kind_of(c), Some(OptionKind::DontKnow | OptionKind::Refused)))
            })
            .collect();
        let in_base: Vec<&(&Respondent, &Vec<String>)> = members
            .iter()
            .zip(&non_response)
            .filter(|(_, nr)| include_non_response || !**nr)
            .map(|(m, _)| m)
            .collect();
        let weighted: f64 = in_base.iter().map(|(r, _)| r.weight).sum();
        let squares: f64 = in_base.iter().map(|(r, _)| r.weight * r.weight).sum();
        let n = in_base.len() as u64;
        let effective = if squares > 0.0 {
            weighted * weighted / squares
        } else {
            0.0
        };
        let estimate = |chooses: &dyn Fn(&Vec<String>) -> bool| {
            let chosen: Vec<&&(&Respondent, &Vec<String>)> = in_base.iter().filter(|(_, c)| chooses(c)).collect();
            let w: f64 = chosen.iter().map(|(r, _)| r.weight).sum();
            let share = (weighted > 0.0).then(|| w * 100.0 / weighted);
            let ci = share
                .filter(|_| !census && effective > 0.0)
                .map(|s| wilson(s / 100.0, effective));
            Estimate {
                share,
                count: Some(chosen.len() as u64),
                ci_low: ci.map(|c| c.0),
                ci_high: ci.map(|c| c.1),
            }
        };
        let options = question
            .options
            .iter()
            .filter(|o| include_non_response || !matches!(o.kind, OptionKind::DontKnow | OptionKind::Refused))
            .filter(|o| o.kind != OptionKind::NotApplicable)
            .map(|o| {
                // A parent option counts the respondents who chose it or an option nested in it.
                let nested: Vec<&str> = question
                    .options
                    .iter()
                    .filter(|c| c.parent.as_deref() == Some(o.code.as_str()))
                    .map(|c| c.code.as_str())
                    .collect();
                let code = o.code.clone();
                (
                    o.code.clone(),
                    estimate(&|c: &Vec<String>| c.iter().any(|x| *x == code || nested.contains(&x.as_str()))),
                )
            })
            .collect();
        let nets = question
            .nets
            .iter()
            .map(|(code, members)| {
                (
                    code.clone(),
                    estimate(&|c: &Vec<String>| c.iter().any(|x| members.contains(x))),
                )
            })
            .collect();
        out.push(GroupResult {
            group,
            base: Some(n),
            weighted_base: Some(weighted),
            effective_base: Some(effective),
            non_response: Some(non_response.iter().filter(|nr| **nr).count() as u64),
            options,
            nets,
            unaccounted_share: None,
            low_reliability: n < RELIABLE_BASE,
            ..GroupResult::default()
        });
    }
    out
}

/// The sector's result of a question from the shares a report printed (`None`: not printed). Nets of a single-choice
/// question sum their members' printed shares (null when one is missing); a multiple-choice net needs microdata.
/// The unaccounted share is 100 minus the printed top-level shares of a single-choice question, when every one is
/// printed and they fall short of 100.
pub fn from_published(question: &QuestionDef, printed: &HashMap<String, Option<f64>>) -> GroupResult {
    let share = |code: &str| printed.get(code).copied().flatten();
    let options = question
        .options
        .iter()
        .map(|o| {
            (
                o.code.clone(),
                Estimate {
                    share: share(&o.code),
                    ..Estimate::default()
                },
            )
        })
        .collect();
    let nets = question
        .nets
        .iter()
        .map(|(code, members)| {
            let sum: Option<f64> = if question.multiple {
                None
            } else {
                members.iter().map(|m| share(m)).sum()
            };
            (
                code.clone(),
                Estimate {
                    share: sum,
                    ..Estimate::default()
                },
            )
        })
        .collect();
    let top: Vec<Option<f64>> = question
        .options
        .iter()
        .filter(|o| o.parent.is_none())
        .map(|o| share(&o.code))
        .collect();
    let printed_sum: Option<f64> = top.iter().copied().sum();
    let unaccounted = printed_sum
        .filter(|_| !question.multiple)
        .map(|s| 100.0 - s)
        .filter(|u| *u > 1e-9);
    GroupResult {
        options,
        nets,
        unaccounted_share: unaccounted,
        ..GroupResult::default()
    }
}

/// Who reads the results, for the small-base rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The public and associations: small bases withheld.
    Public,
    /// Partners and the observatory: every estimate, small bases flagged.
    Partner,
}

/// Applies the small-base rules to the groups of one grouping (`dims`), in place: a base under the minimum (or, for an
/// institution survey, a group of fewer institutions) is withheld from the public with its counts; then, along each
/// dimension, where one group of a line of siblings is withheld, the smallest other is too, until no line has a
/// single withheld group. Partners get every estimate, flagged.
pub fn hide(results: &mut [GroupResult], dims: &[Dimension], reader: Reader, institutions: bool) {
    let minimum = if institutions {
        MINIMUM_INSTITUTIONS
    } else {
        MINIMUM_BASE
    };
    for result in results.iter_mut() {
        let small = result.base.is_some_and(|n| n < minimum);
        result.below_minimum_base = small;
        if small && reader == Reader::Public {
            result.suppressed = true;
            result.reason = Some(if institutions {
                Reason::FewInstitutions
            } else {
                Reason::LowBase
            });
        }
    }
    if reader == Reader::Public {
        loop {
            let mut changed = false;
            for dim in dims {
                let others: Vec<Dimension> = dims.iter().copied().filter(|d| d != dim).collect();
                let mut lines: BTreeMap<Group, Vec<usize>> = BTreeMap::new();
                for (i, r) in results.iter().enumerate() {
                    lines.entry(r.group.on(&others)).or_default().push(i);
                }
                for members in lines.values() {
                    let hidden = members.iter().filter(|i| results[**i].suppressed).count();
                    if hidden != 1 || members.len() < 2 {
                        continue;
                    }
                    let next = members
                        .iter()
                        .copied()
                        .filter(|i| !results[*i].suppressed)
                        .min_by_key(|i| (results[*i].base.unwrap_or(u64::MAX), *i));
                    if let Some(next) = next {
                        results[next].suppressed = true;
                        results[next].reason = Some(Reason::Complementary);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }
    for result in results.iter_mut().filter(|r| r.suppressed) {
        result.base = None;
        result.weighted_base = None;
        result.effective_base = None;
        result.non_response = None;
        for (_, estimate) in result.options.iter_mut().chain(result.nets.iter_mut()) {
            *estimate = Estimate::default();
        }
    }
}

/// The distinct groups of a set of results on one dimension.
pub fn values_of(results: &[GroupResult], dim: Dimension) -> BTreeSet<Group> {
    results.iter().map(|r| r.group.on(&[dim])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question() -> QuestionDef {
        QuestionDef {
            code: "Q".into(),
            multiple: false,
            options: ["YES", "NO", "DK"]
                .iter()
                .map(|c| OptionDef {
                    code: (*c).into(),
                    kind: if *c == "DK" {
                        OptionKind::DontKnow
                    } else {
                        OptionKind::Substantive
                    },
                    parent: None,
                })
                .collect(),
            nets: vec![],
        }
    }

    /// Four respondents with known weights: the weighted share, the effective base and the Wilson interval, by hand.
    #[test]
    fn weighted_share_effective_base_and_wilson_interval() {
        let weights = [
            (1, 1.0, "YES"),
            (2, 2.0, "YES"),
            (3, 3.0, "NO"),
            (4, 2.0, "NO"),
            (5, 5.0, "DK"),
        ];
        let respondents: Vec<Respondent> = weights
            .iter()
            .map(|(id, w, _)| Respondent {
                id: *id,
                weight: *w,
                group: Group::default(),
            })
            .collect();
        let answers: HashMap<i64, Vec<String>> = weights.iter().map(|(id, _, a)| (*id, vec![(*a).into()])).collect();
        let result = &from_microdata(&question(), &respondents, &answers, &[], false, false)[0];
        // The base leaves "don't know" out: weights 1 + 2 + 3 + 2 = 8; YES weighs 3, 37.5 %.
        assert_eq!(result.base, Some(4));
        assert_eq!(result.non_response, Some(1));
        assert_eq!(result.weighted_base, Some(8.0));
        // n_eff = 8² ÷ (1 + 4 + 9 + 4) = 64 ÷ 18 = 3.5556.
        assert!((result.effective_base.unwrap() - 64.0 / 18.0).abs() < 1e-12);
        let yes = result.options[0].1;
        assert_eq!(yes.share, Some(37.5));
        assert_eq!(yes.count, Some(2));
        // Wilson with p = 0.375, n = 3.5556, z = 1.96: centre (0.375 + 1.9208 ÷ 3.5556) ÷ (1 + 3.8415 ÷ 3.5556) =
        // 0.4399, half-width 0.3549: 8.50 % to 79.48 % (the normal interval would be −12.8 % to 87.8 %).
        assert!((yes.ci_low.unwrap() - 8.50).abs() < 0.01, "{yes:?}");
        assert!((yes.ci_high.unwrap() - 79.48).abs() < 0.01, "{yes:?}");
        // With non-response included, the base is 13 and YES 3 ÷ 13.
        let with = &from_microdata(&question(), &respondents, &answers, &[], true, false)[0];
        assert!((with.options[0].1.share.unwrap() - 300.0 / 13.0).abs() < 1e-9);
    }

    /// Generated groups by gender and area: every group under the minimum is withheld from the public, no line of
    /// siblings keeps a single withheld group (a total minus the visible parts would give it back), partners see
    /// every estimate flagged.
    #[test]
    fn small_bases_are_withheld_with_a_sibling() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..300 {
            let mut respondents = Vec::new();
            let mut answers = HashMap::new();
            let mut id = 0;
            for gender in ["F", "M"] {
                for area in ["U", "R", "P"] {
                    for _ in 0..next(80) {
                        id += 1;
                        respondents.push(Respondent {
                            id,
                            weight: 1.0 + next(3) as f64,
                            group: Group {
                                gender: Some(gender.into()),
                                area: Some(area.into()),
                                ..Group::default()
                            },
                        });
                        answers.insert(id, vec![if next(2) == 0 { "YES".into() } else { "NO".into() }]);
                    }
                }
            }
            let dims = [Dimension::Gender, Dimension::Area];
            let mut public = from_microdata(&question(), &respondents, &answers, &dims, false, false);
            let mut partner = public.clone();
            hide(&mut public, &dims, Reader::Public, false);
            hide(&mut partner, &dims, Reader::Partner, false);
            for (p, q) in public.iter().zip(&partner) {
                assert!(!q.suppressed && q.options[0].1.share.is_some());
                assert_eq!(q.below_minimum_base, q.base.unwrap() < MINIMUM_BASE);
                if q.base.unwrap() < MINIMUM_BASE {
                    assert!(p.suppressed && p.options[0].1.share.is_none() && p.base.is_none());
                }
            }
            for dim in dims {
                let others: Vec<Dimension> = dims.iter().copied().filter(|d| *d != dim).collect();
                let mut lines: BTreeMap<Group, Vec<&GroupResult>> = BTreeMap::new();
                for r in &public {
                    lines.entry(r.group.on(&others)).or_default().push(r);
                }
                for line in lines.values() {
                    let hidden = line.iter().filter(|r| r.suppressed).count();
                    assert!(
                        hidden != 1 || line.len() == 1,
                        "a single withheld group in a line: {line:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn published_shares_sum_nets_and_leave_the_unaccounted_share() {
        let mut q = question();
        q.options.truncate(2);
        q.nets = vec![("ANY".into(), vec!["YES".into(), "NO".into()])];
        let printed: HashMap<String, Option<f64>> = [("YES".to_owned(), Some(71.0)), ("NO".to_owned(), Some(27.0))]
            .into_iter()
            .collect();
        let result = from_published(&q, &printed);
        assert_eq!(result.unaccounted_share, Some(2.0));
        assert_eq!(result.nets[0].1.share, Some(98.0));
        assert_eq!(result.options[0].1.ci_low, None, "no base, no interval");
        let missing: HashMap<String, Option<f64>> = [("YES".to_owned(), Some(44.0)), ("NO".to_owned(), None)]
            .into_iter()
            .collect();
        let result = from_published(&q, &missing);
        assert_eq!(result.options[1].1.share, None, "never a remainder");
        assert_eq!(result.unaccounted_share, None);
        assert_eq!(result.nets[0].1.share, None);
    }
}
