"""CISA's KEV feed and Microsoft's MSRC CVRF API v3.0 on loopback, serving documents the tests write in the
publishers' own schemas (../shared/rmm/README.md): every document is checked against the documented fields
before it is served, so the fake cannot drift into a shape the real feed never gives.

KEV: `GET /kev.json`, with an ETag and Last-Modified, and 304 for a matching If-None-Match (as CISA's CDN
answers). MSRC: `GET /msrc/updates` and `GET /msrc/cvrf/{ID}` (JSON with Accept: application/json).
Failures are queued per path: `fail("/kev.json", 500, 500)`."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from datetime import date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.loopback import LoopbackServer

KEV_ENTRY = {  # CISA's field: its type
    "cveID": str,
    "vendorProject": str,
    "product": str,
    "vulnerabilityName": str,
    "dateAdded": str,
    "shortDescription": str,
    "requiredAction": str,
    "dueDate": str,
    "knownRansomwareCampaignUse": str,
    "notes": str,
    "cwes": list,
}
KEV_TOP = {"title": str, "catalogVersion": str, "dateReleased": str, "count": int, "vulnerabilities": list}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def kev_entry(
    cve: str,
    vendor: str,
    product: str,
    name: str,
    added: date,
    due: date,
    ransomware: str = "Unknown",
    action: str = "Apply mitigations per vendor instructions or discontinue use of the product if unavailable.",
) -> dict[str, Any]:
    return {
        "cveID": cve,
        "vendorProject": vendor,
        "product": product,
        "vulnerabilityName": name,
        "dateAdded": added.isoformat(),
        "shortDescription": f"{vendor} {product} contains a vulnerability that allows remote code execution.",
        "requiredAction": action,
        "dueDate": due.isoformat(),
        "knownRansomwareCampaignUse": ransomware,
        "notes": f"https://nvd.nist.gov/vuln/detail/{cve}",
        "cwes": ["CWE-787"],
    }


def catalogue(entries: list[dict[str, Any]], version: str, released: datetime) -> dict[str, Any]:
    return {
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": version,
        "dateReleased": released.isoformat().replace("+00:00", "Z"),
        "count": len(entries),
        "vulnerabilities": entries,
    }


def check_kev(document: dict[str, Any]) -> None:
    """The catalogue has CISA's documented fields, each of its type, and nothing else."""
    assert set(document) == set(KEV_TOP), f"KEV top level: {sorted(document)}"
    for key, kind in KEV_TOP.items():
        assert isinstance(document[key], kind), f"KEV {key} is not {kind.__name__}"
    assert document["count"] == len(document["vulnerabilities"])
    for entry in document["vulnerabilities"]:
        assert set(entry) == set(KEV_ENTRY), f"KEV entry fields: {sorted(entry)}"
        for key, kind in KEV_ENTRY.items():
            assert isinstance(entry[key], kind), f"KEV {entry['cveID']}.{key} is not {kind.__name__}"
        assert entry["knownRansomwareCampaignUse"] in {"Known", "Unknown"}
        date.fromisoformat(entry["dateAdded"])
        date.fromisoformat(entry["dueDate"])


def msrc_id(day: date) -> str:
    return f"{day.year}-{MONTHS[day.month - 1]}"


def msrc_vulnerability(
    cve: str,
    title: str,
    severity: str,
    kb: str,
    products: list[str],
    exploited: bool = False,
    score: float = 7.8,
) -> dict[str, Any]:
    """One CVRF `Vulnerability` as MSRC writes it; `products` are ProductIDs of the document's ProductTree."""
    status = (
        f"Publicly Disclosed:No;Exploited:{'Yes' if exploited else 'No'};Latest Software Release:Exploitation Detected"
    )
    return {
        "Title": {"Value": title},
        "Notes": [{"Title": "Description", "Type": 2, "Ordinal": "20", "Value": f"<p>{title}</p>"}],
        "DiscoveryDateSpecified": False,
        "ReleaseDateSpecified": False,
        "CVE": cve,
        "ProductStatuses": [{"ProductID": products, "Type": 3}],
        "Threats": [
            {"Description": {"Value": "Elevation of Privilege"}, "ProductID": products, "Type": 0},
            {"Description": {"Value": severity}, "ProductID": products, "Type": 3},
            {"Description": {"Value": status}, "ProductID": [], "Type": 1},
        ],
        "CVSSScoreSets": [
            {
                "BaseScore": score,
                "TemporalScore": round(score - 0.6, 1),
                "Vector": "CVSS:3.1/AV:L/AC:L",
                "ProductID": products,
            }
        ],
        "Remediations": [
            {
                "Description": {"Value": kb.removeprefix("KB")},
                "URL": f"https://catalog.update.microsoft.com/v7/site/Search.aspx?q={kb}",
                "ProductID": products,
                "Type": 2,
                "SubType": "Security Update",
                "RestartRequired": {"Value": "Yes"},
            }
        ],
        "Acknowledgments": [{"Name": [{"Value": "Microsoft Threat Intelligence Center"}], "URL": [""]}],
        "RevisionHistory": [{"Number": "1.0", "Date": "2026-12-08T08:00:00", "Description": {"Value": "Published"}}],
    }


def cvrf_document(month: str, title: str, products: dict[str, str], vulnerabilities: list[dict[str, Any]]) -> dict:
    return {
        "DocumentTitle": {"Value": title},
        "DocumentType": {"Value": "Security Update"},
        "DocumentPublisher": {"ContactDetails": {"Value": "secure@microsoft.com"}, "Type": 0},
        "DocumentTracking": {
            "Identification": {"ID": {"Value": month}, "Alias": {"Value": month}},
            "Status": 2,
            "Version": "1.0",
            "InitialReleaseDate": "2026-12-08T08:00:00",
            "CurrentReleaseDate": "2026-12-08T08:00:00",
        },
        "ProductTree": {
            "Branch": [
                {
                    "Items": [
                        {
                            "Items": [{"ProductID": k, "Value": v} for k, v in products.items()],
                            "Type": 3,
                            "Name": "Windows",
                        }
                    ],
                    "Type": 0,
                    "Name": "Microsoft",
                }
            ],
            "FullProductName": [{"ProductID": k, "Value": v} for k, v in products.items()],
        },
        "Vulnerability": vulnerabilities,
    }


def check_cvrf(document: dict[str, Any]) -> None:
    """The month has the fields MSRC documents, of their types."""
    assert isinstance(document["DocumentTitle"]["Value"], str)
    ids = {p["ProductID"] for p in document["ProductTree"]["FullProductName"]}
    for vuln in document["Vulnerability"]:
        assert vuln["CVE"].startswith("CVE-") and isinstance(vuln["Title"]["Value"], str)
        for threat in vuln["Threats"]:
            assert threat["Type"] in {0, 1, 3} and isinstance(threat["Description"]["Value"], str)
        for score in vuln["CVSSScoreSets"]:
            assert isinstance(score["BaseScore"], float)
        for fix in vuln["Remediations"]:
            assert fix["Description"]["Value"].isdigit() and set(fix["ProductID"]) <= ids
        assert set(vuln["ProductStatuses"][0]["ProductID"]) <= ids


class FakeFeeds:
    """Both feeds on one loopback server."""

    def __init__(self) -> None:
        self.kev: dict[str, Any] | None = None
        self.kev_modified = datetime(2026, 1, 1)
        self.months: dict[str, tuple[str, dict[str, Any]]] = {}  # ID -> (InitialReleaseDate, document)
        self.failures: dict[str, list[int]] = defaultdict(list)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()

    def serve_kev(self, document: dict[str, Any], modified: datetime) -> None:
        check_kev(document)
        self.kev, self.kev_modified = document, modified

    def publish_month(self, document: dict[str, Any], released: str) -> None:
        check_cvrf(document)
        self.months[document["DocumentTracking"]["Identification"]["ID"]["Value"]] = (released, document)

    def fail(self, path: str, *statuses: int) -> None:
        self.failures[path] += statuses

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def start(self) -> FakeFeeds:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with fake.lock:
                    fake.requests.append((path, dict(self.headers)))
                    queued = fake.failures.get(path)
                    status = queued.pop(0) if queued else None
                if status is not None:
                    self._send(status, {"message": "Service Unavailable"})
                elif path == "/kev.json" and fake.kev is not None:
                    body = json.dumps(fake.kev).encode()
                    etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
                    headers = {"ETag": etag, "Last-Modified": format_datetime(fake.kev_modified, usegmt=True)}
                    if self.headers.get("If-None-Match") == etag:
                        self._send(304, None, headers)
                    else:
                        self._send(200, body, headers)
                elif path == "/msrc/updates":
                    value = [
                        {
                            "ID": key,
                            "Alias": key,
                            "DocumentTitle": doc["DocumentTitle"]["Value"],
                            "Severity": None,
                            "InitialReleaseDate": released,
                            "CurrentReleaseDate": released,
                            "CvrfUrl": f"https://api.msrc.microsoft.com/cvrf/v3.0/cvrf/{key}",
                        }
                        for key, (released, doc) in fake.months.items()
                    ]
                    self._send(
                        200,
                        {
                            "@odata.context": "https://api.msrc.microsoft.com/cvrf/v3.0/$metadata#updates",
                            "value": value,
                        },
                    )
                elif path.startswith("/msrc/cvrf/") and path.rsplit("/", 1)[1] in fake.months:
                    assert "application/json" in self.headers.get("Accept", "")
                    self._send(200, fake.months[path.rsplit("/", 1)[1]][1])
                else:
                    self._send(404, {"error": "not found"})

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                if status != 304:
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(raw)

        self.server = LoopbackServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
