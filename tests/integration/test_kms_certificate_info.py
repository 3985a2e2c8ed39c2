"""kms_certificate_info through ansible-playbook against the real server.

Certificates are made with raw KMIP (the client fixture): a CA and leaves with mixed
validity, each test under its own tag, so tests running in parallel on the session's
server do not see each other's certificates where it matters.
"""

import os
import uuid

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError

from kms_checks import play, records

CA_EXTENSIONS = "[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,crlSign\n"
LEAF_EXTENSIONS = ("[v3_ca]\nbasicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:%s.example.test,IP:192.0.2.7\n"
                   "crlDistributionPoints=URI:http://pki.example.test/ca.crl\n"
                   "authorityInfoAccess=OCSP;URI:http://ocsp.example.test/,caIssuers;URI:http://pki.example.test/ca.crt\n")
# 20 leaves: validity in days, and whether it is in the set expiring within 30 days. None is
# 30 days exactly, so the seconds between issuing and listing cannot move one across.
VALIDITY = [1, 2, 3, 5, 7, 10, 14, 21, 25, 29, 31, 32, 45, 60, 90, 120, 180, 365, 400, 730]
WITHIN = 30


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def info(title, **options):
    return {"name": title, "pkimanager.kms.kms_certificate_info": options, "ignore_errors": True}


def ids(result):
    return [cert["id"] for cert in result["kms_certificates"]]


def make_ca(client, tag):
    ca = unique("ca")
    client.call(ops.create_key_pair(private_key_id=ca, key_type="ec", curve="P-256"))
    ca_cert = client.call(ops.certify(certificate_id=unique("cacert"), public_key_id=ca + "_pk",
                                      subject={"CN": "CA " + tag}, extensions=CA_EXTENSIONS, validity_days=3650,
                                      tags=[tag]))
    return ca, ca_cert


def make_leaf(client, tag, ca, ca_cert, days, exportable=False):
    """A leaf certificate valid ``days`` days, issued by the CA; returns (certificate id, key pair id)."""
    name = unique("leaf%d" % days)
    client.call(ops.create_key_pair(private_key_id=name, key_type="ec", curve="P-256", exportable=exportable))
    cert_id = client.call(ops.certify(certificate_id=name + "-cert", public_key_id=name + "_pk",
                                      subject={"CN": name, "O": "Fleet"}, issuer_private_key_id=ca,
                                      issuer_certificate_id=ca_cert, validity_days=days,
                                      extensions=LEAF_EXTENSIONS % name, tags=[tag, "d%d" % days]))
    return cert_id, name


def test_the_expiring_set_is_exact_among_20_certificates(env, client):
    tag = unique("fleet")
    ca, ca_cert = make_ca(client, tag)
    leaves = dict((days, make_leaf(client, tag, ca, ca_cert, days)[0]) for days in VALIDITY)
    # A short-lived certificate that is revoked: never in the expiring set.
    revoked = make_leaf(client, tag, ca, ca_cert, 4)[0]
    client.call(ops.revoke(revoked, "Superseded", cascade=False))
    with pytest.raises(KmsError):
        client.call(ops.get_certificate(revoked))  # why it is reported from its attributes only
    expected = sorted(leaves[days] for days in VALIDITY if days < WITHIN)
    run = play(env,
               info("expiring", tags=[tag], expiring_within_days=WITHIN),
               info("expiring everywhere", expiring_within_days=WITHIN),
               info("expired", tags=[tag], expiring_within_days=0),
               info("by tag", tags=[tag]),
               info("two tags", tags=[tag, "d45"]),
               info("by name", name=leaves[45]),
               info("revoked", name=revoked),
               info("revoked state", tags=[tag], state="Deactivated"),
               info("missing", name=unique("missing")),
               info("key pair name", name=ca))
    for task in ("expiring", "by tag", "by name", "missing", "revoked"):
        assert run.result(task)["_status"] == "ok" and not run.result(task)["changed"], run.output[-3000:]

    assert ids(run.result("expiring")) == expected and len(expected) == 10
    assert all(not c["revoked"] and 0 <= c["days_left"] < WITHIN for c in run.result("expiring")["kms_certificates"])
    everywhere = set(ids(run.result("expiring everywhere")))
    assert set(expected) <= everywhere and not (set(leaves.values()) - set(expected) | {revoked, ca_cert}) & everywhere
    assert run.result("expired")["kms_certificates"] == []

    listed = run.result("by tag")["kms_certificates"]
    assert ids(run.result("by tag")) == sorted(list(leaves.values()) + [revoked, ca_cert])
    by_id = dict((c["id"], c) for c in listed)
    for days, cert_id in leaves.items():
        # Issued seconds ago for ``days`` days: that many whole days left, or one less.
        assert by_id[cert_id]["days_left"] in (days - 1, days), (days, by_id[cert_id])
    assert by_id[ca_cert]["ca"] is True and by_id[ca_cert]["days_left"] >= 3649
    assert by_id[ca_cert]["subject"] == by_id[ca_cert]["issuer"] == {"CN": "CA " + tag}
    assert ids(run.result("two tags")) == [leaves[45]]

    [leaf] = run.result("by name")["kms_certificates"]
    name = leaves[45][:-len("-cert")]
    assert leaf["id"] == leaf["name"] == leaves[45] and leaf["state"] == "Active" and leaf["revoked"] is False
    assert leaf["subject"] == {"CN": name, "O": "Fleet"} and leaf["issuer"] == {"CN": "CA " + tag}
    assert leaf["subject_alt_names"] == sorted(["DNS:%s.example.test" % name, "IP:192.0.2.7"])
    assert leaf["key_type"] == "ec" and leaf["signature_algorithm"] == "ecdsa-with-SHA256" and leaf["ca"] is False
    assert isinstance(leaf["serial_number"], int) and leaf["expired"] is False
    assert leaf["not_before"].endswith("Z") and leaf["not_after"].endswith("Z") and leaf["not_before"] < leaf["not_after"]
    assert leaf["tags"] == sorted([tag, "d45"]) and leaf["public_key_id"] == name + "_pk"
    assert leaf["fingerprint_sha256"].count(":") == 31 and leaf["deactivation_date"] is None
    assert leaf["crl_distribution_points"] == ["http://pki.example.test/ca.crl"]
    assert leaf["ocsp_responder_urls"] == ["http://ocsp.example.test/"]
    assert leaf["ca_issuers_urls"] == ["http://pki.example.test/ca.crt"]
    assert by_id[ca_cert]["crl_distribution_points"] == by_id[ca_cert]["ca_issuers_urls"] == []

    [gone] = run.result("revoked")["kms_certificates"]
    assert gone["id"] == revoked and gone["revoked"] is True and gone["state"] == "Deactivated"
    assert gone["deactivation_date"] and gone["not_after"] is None and gone["days_left"] is None
    assert gone["crl_distribution_points"] is None
    assert ids(run.result("revoked state")) == [revoked]
    assert run.result("missing")["kms_certificates"] == [] and run.result("missing")["_status"] == "ok"
    assert run.result("key pair name")["kms_certificates"] == []


def test_check_mode_reports_the_same_and_changes_nothing(env, client):
    tag = unique("check")
    ca, ca_cert = make_ca(client, tag)
    leaf = make_leaf(client, tag, ca, ca_cert, 10)[0]
    objects = [ca_cert, leaf]
    before = dict((i, client.call(ops.get_attributes(i))) for i in objects)
    task = info("inventory", tags=[tag], expiring_within_days=WITHIN)
    checked = play(env, task, args=["--check", "--diff"]).result("inventory")
    real = play(env, task).result("inventory")
    assert checked["_status"] == "ok" and not checked["changed"] and not real["changed"]
    assert ids(real) == [leaf] and "diff" not in checked
    for entry in checked["kms_certificates"] + real["kms_certificates"]:
        entry.pop("days_left")  # computed when each ran
    assert checked["kms_certificates"] == real["kms_certificates"]
    assert dict((i, client.call(ops.get_attributes(i))) for i in objects) == before


def test_no_private_key_and_every_call_audited(env, client):
    tag = unique("secret")
    ca, ca_cert = make_ca(client, tag)
    leaf, pair = make_leaf(client, tag, ca, ca_cert, 10, exportable=True)
    revoked = make_leaf(client, tag, ca, ca_cert, 10)[0]
    client.call(ops.revoke(revoked, "Superseded", cascade=False))
    secret = client.call(ops.get_private_key(pair))
    run = play(env, info("inventory", tags=[tag]), args=["-vvv"])
    result = run.result("inventory")
    assert ids(result) == sorted([ca_cert, leaf, revoked])
    body = secret["pem"].splitlines()[1]
    for text in (str(result), run.output):
        assert "PRIVATE KEY" not in text and body not in text
    trail = records(env)
    calls = [(r["operation"], r["entity_type"], r["entity_id"], r["status"]) for r in trail]
    # One Locate, the attributes of each certificate, and the live certificates only: never a
    # Get of a key, nor of the revoked certificate.
    assert sorted(calls) == sorted([("kms.locate", "query", None, "success")]
                                   + [("kms.get_attributes", "certificate", i, "success") for i in (ca_cert, leaf, revoked)]
                                   + [("kms.get", "certificate", i, "success") for i in (ca_cert, leaf)])
    assert len(set(r["operation_id"] for r in trail)) == 1


def test_bad_arguments_fail_before_any_kms_call(env):
    run = play(env, info("bad tag", tags=["_sk"]), info("bad state", state="Expired"),
               info("bad name", name="a b"), info("negative days", expiring_within_days=-1))
    assert "must not start with '_'" in run.result("bad tag")["msg"]
    assert "value of state must be one of: PreActive, Active" in run.result("bad state")["msg"]
    assert "name must be 1 to 128 characters" in run.result("bad name")["msg"]
    assert "expiring_within_days must be 0 or more, got -1" in run.result("negative days")["msg"]
    assert all(run.result(t)["_status"] == "failed" for t in ("bad tag", "bad state", "bad name", "negative days"))
    assert not os.path.exists(env["KMS_AUDIT_LOG"]) or records(env) == []
