//! Closed vocabularies stored as short upper-case strings. The database checks
//! each column against the same list (see the migrations), so a value outside
//! it can never be stored.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $value)] #[serde(rename = $value)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored string of this value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $value),+ }
            }

            /// The stored strings, for the migration's check constraint.
            pub fn stored_values() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }
        }
    };
}

text_enum!(
    /// Lending methodology of a loan or client.
    Segment { Individual = "INDIVIDUAL", SolidarityGroup = "SOLIDARITY_GROUP", VerySmallEnterprise = "VERY_SMALL_ENTERPRISE" }
);
text_enum!(
    /// Gender of a client or staff member.
    Gender { Female = "FEMALE", Male = "MALE" }
);
text_enum!(
    /// Urban or rural location.
    Area { Urban = "URBAN", Rural = "RURAL" }
);
text_enum!(
    /// Kind of point of sale.
    BranchKind { Agency = "AGENCY", Mobile = "MOBILE" }
);
text_enum!(
    /// Life-cycle state of an association.
    AssociationStatus { Active = "ACTIVE", Merged = "MERGED", Closed = "CLOSED" }
);
text_enum!(
    /// Where a staff member works.
    StaffCategory { Network = "NETWORK", HeadOffice = "HEAD_OFFICE", Unspecified = "UNSPECIFIED" }
);
text_enum!(
    /// Measure that an association sets itself an objective for.
    TargetMeasure { NewClients = "NEW_CLIENTS", DisbursedCount = "DISBURSED_COUNT", DisbursedAmount = "DISBURSED_AMOUNT", OutstandingAmount = "OUTSTANDING_AMOUNT", RepaymentsCollected = "REPAYMENTS_COLLECTED" }
);
text_enum!(
    /// Format of a training action of the centre.
    TrainingFormat {
        CertifiedTraining = "CERTIFIED_TRAINING",
        PlannedStaffTraining = "PLANNED_STAFF_TRAINING",
        MicroEntrepreneurTraining = "MICRO_ENTREPRENEUR_TRAINING",
        TrainingEngineering = "TRAINING_ENGINEERING",
        LogisticalSupport = "LOGISTICAL_SUPPORT",
        ElearningAssociationStaff = "ELEARNING_ASSOCIATION_STAFF",
        ElearningOther = "ELEARNING_OTHER",
    }
);
text_enum!(
    /// Audience of a training action.
    TrainingAudience {
        AssociationManagement = "ASSOCIATION_MANAGEMENT",
        AssociationStaff = "ASSOCIATION_STAFF",
        CentreStaff = "CENTRE_STAFF",
        MicroEntrepreneurs = "MICRO_ENTREPRENEURS",
        Other = "OTHER",
    }
);
text_enum!(
    /// How a training action was delivered.
    Delivery { OnSite = "ON_SITE", Remote = "REMOTE", Blended = "BLENDED" }
);
text_enum!(
    /// The economic activity a loan finances, as reported (the leaf codes of the `ACTIVITY` code list).
    Activity {
        Agriculture = "AGRICULTURE",
        Livestock = "LIVESTOCK",
        Commerce = "COMMERCE",
        Crafts = "CRAFTS",
        Production = "PRODUCTION",
        Services = "SERVICES",
        OtherIga = "OTHER_IGA",
        Housing = "HOUSING",
        UtilitiesConnection = "UTILITIES_CONNECTION",
        Unspecified = "UNSPECIFIED",
    }
);
text_enum!(
    /// Economic sector of a programme beneficiary's activity.
    Sector {
        AgricultureLivestock = "AGRICULTURE_LIVESTOCK",
        Agrifood = "AGRIFOOD",
        ArtsCrafts = "ARTS_CRAFTS",
        HairdressingBeauty = "HAIRDRESSING_BEAUTY",
        LogisticsTransport = "LOGISTICS_TRANSPORT",
        Leisure = "LEISURE",
        EducationEarlyChildhood = "EDUCATION_EARLY_CHILDHOOD",
        Mechanics = "MECHANICS",
        Health = "HEALTH",
        Other = "OTHER",
        Unspecified = "UNSPECIFIED",
    }
);
text_enum!(
    /// Gender of programme beneficiaries, where the source gives it.
    OutcomeGender { Female = "FEMALE", Male = "MALE", Unspecified = "UNSPECIFIED" }
);
text_enum!(
    /// Kind of organisation that exchanges data with the observatory.
    PartnerKind { Ministry = "MINISTRY", Fund = "FUND", Federation = "FEDERATION", Association = "ASSOCIATION", Observatory = "OBSERVATORY", Other = "OTHER" }
);
text_enum!(
    /// State of a received monthly report.
    SubmissionStatus { Received = "RECEIVED", Accepted = "ACCEPTED", Rejected = "REJECTED", Superseded = "SUPERSEDED" }
);
text_enum!(
    /// The groups an alert rule judges a measure on.
    AlertScope { Sector = "SECTOR", Region = "REGION", Association = "ASSOCIATION", Segment = "SEGMENT" }
);
text_enum!(
    /// What an alert rule compares with its threshold.
    AlertComparison {
        Value = "VALUE",
        PreviousPeriodChange = "PREVIOUS_PERIOD_CHANGE",
        SamePeriodPreviousYearChange = "SAME_PERIOD_PREVIOUS_YEAR_CHANGE"
    }
);
text_enum!(
    /// Which side of the threshold raises an alert.
    AlertDirection { Above = "ABOVE", Below = "BELOW" }
);
text_enum!(
    /// How serious an alert is.
    AlertSeverity { Info = "INFO", Warning = "WARNING", Critical = "CRITICAL" }
);
text_enum!(
    /// Whether an alert's condition still holds.
    AlertStatus { Open = "OPEN", Resolved = "RESOLVED" }
);
text_enum!(
    /// What happened to an alert.
    AlertEventKind { AlertRaised = "ALERT_RAISED", AlertResolved = "ALERT_RESOLVED" }
);
text_enum!(
    /// Where a webhook delivery stands.
    DeliveryStatus { Pending = "PENDING", Delivered = "DELIVERED", Failed = "FAILED" }
);
