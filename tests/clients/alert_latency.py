"""How long an alert takes to reach a webhook receiver and a subscriber once its report is accepted.

Sends N one-cell reports of new months for an association (each with PAR30 at 8 %, so each raises a
PAR30_ABOVE_5_ASSOCIATION alert), one after another, to a running server started with
`--webhook-allow-private`; a webhook of the observatory's points at a receiver in this process, and
alert_subscriber.mjs (graphql-ws) subscribes to `alertRaised`. Prints the percentiles of the time from the answer to
each report to the webhook request and to the subscription message.

    python3 tests/clients/alert_latency.py http://127.0.0.1:8080 mfo_<observatory key> [N] [ASSOCIATION] [SUBSCRIBE_URL]

SUBSCRIBE_URL: another server process over the same database, to measure from one process to another. It turns the
lateness rule off (it would raise alerts for every association missing the latest month). Each run needs months
without alerts yet: use another ASSOCIATION for a second run on the same database.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

BASE, KEY = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 40
ASSOCIATION = sys.argv[4] if len(sys.argv) > 4 else "TAFOUKT"
SUBSCRIBE = sys.argv[5] if len(sys.argv) > 5 else BASE
RULE = "PAR30_ABOVE_5_ASSOCIATION"

hook_at = {}


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        now = time.time()
        event = json.loads(body)
        alert = event["alert"]
        if event["type"] == "ALERT_RAISED" and alert["rule"] == RULE and alert["association"] == ASSOCIATION:
            hook_at.setdefault(alert["period"], now)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()


def gql(query, variables=None):
    request = urllib.request.Request(
        BASE + "/graphql",
        json.dumps({"query": query, "variables": variables or {}}).encode(),
        {"content-type": "application/json", "authorization": "Bearer " + KEY},
    )
    answer = json.loads(urllib.request.urlopen(request).read())
    assert "errors" not in answer, answer
    return answer


gql('mutation { setAlertRuleActive(code: "REPORT_LATE", active: false) { active } }')
hook = gql(
    "mutation($url: String!) { createWebhook(url: $url, events: [ALERT_RAISED], secret: \"latency-measure-secret\") { id } }",
    {"url": f"http://127.0.0.1:{server.server_port}/hook"},
)["data"]["createWebhook"]["id"]

subscriber = subprocess.Popen(
    ["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "alert_subscriber.mjs"),
     SUBSCRIBE.replace("http", "ws", 1) + "/graphql"],
    stdout=subprocess.PIPE, text=True, env={**os.environ, "KEY": KEY},
)
assert subscriber.stdout.readline().strip() == "ready"
subscribed_at = {}


def read_subscriber():
    for line in subscriber.stdout:
        at, period = line.split()
        subscribed_at.setdefault(period, int(at) / 1000)


threading.Thread(target=read_subscriber, daemon=True).start()
time.sleep(2)

REPORT = """mutation($association: String!, $period: Period!) { submitReport(input: {
  association: $association, period: $period,
  clients: [{ region: "MA-09", segment: "INDIVIDUAL", gender: "FEMALE", area: "RURAL", active_clients: 1200,
              new_clients: 40 }],
  loans: [{ region: "MA-09", segment: "INDIVIDUAL", gender: "FEMALE", area: "RURAL", disbursed_count: 50,
            disbursed_amount: "400000.00", active_loans: 1200, outstanding_amount: "5000000.00",
            par30_amount: "400000.00", par90_amount: "100000.00", write_off_amount: "0.00",
            rescheduled_amount: "0.00", repayments_due: "600000.00", repayments_collected: "570000.00" }],
  staff: [{ category: "NETWORK", gender: "FEMALE", headcount: 12 }] }) { revision } }"""

sent, answered = {}, {}
for i in range(N):
    year, month = 2021 + (2 + i) // 12, (2 + i) % 12 + 1
    period = f"{year}-{month:02d}"
    sent[period] = time.time()
    gql(REPORT, {"association": ASSOCIATION, "period": period})
    answered[period] = time.time()
    time.sleep(0.2)
time.sleep(2)
subscriber.kill()
gql("mutation($id: ID!) { deleteWebhook(id: $id) { active } }", {"id": hook})


def percentile(values, share):
    values = sorted(values)
    return values[min(len(values) - 1, int(share * len(values)))]


round_trips = [1000 * (answered[p] - sent[p]) for p in answered]
print(f"{N} reports: answered in p50 {percentile(round_trips, .5):.1f} ms")
for name, arrived in (("webhook", hook_at), ("subscription", subscribed_at)):
    after = [1000 * (arrived[p] - answered[p]) for p in answered if p in arrived]
    if not after:
        print(f"{name}: nothing received")
        continue
    print(
        f"{name}: {len(after)} of {N} received; after the report's answer p50 {percentile(after, .5):.1f} ms, "
        f"p95 {percentile(after, .95):.1f} ms, max {max(after):.1f} ms"
    )
