#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Validates live pool group stats JSON against docs/group_stats.schema.json (which embeds
docs/stats.schema.json for each member's own document) with python3-jsonschema, checks that
the figures of each document agree with each other, that the schema rejects broken copies of
a live document, and that docs/GROUPS.md's stats table documents exactly the schema's fields.

Usage:
  validate_group_stats.py --schema GROUP_SCHEMA --pool-schema POOL_SCHEMA [--doc GROUPS.md]
                          [--require-states] -- COMMAND [ARGS...]
      runs COMMAND, which prints "<label>\\t<json>" lines (group_stats_dump), taken while no
      group call ran, and checks each.
  validate_group_stats.py --schema GROUP_SCHEMA --pool-schema POOL_SCHEMA --expect-invalid FILE
      succeeds only if FILE is JSON that the schema rejects (the test that this can fail).
Exits 0 when everything holds, 1 otherwise, 2 on usage errors or a missing validator.
"""
import argparse
import copy
import functools
import json
import os
import re
import subprocess
import sys
from urllib.parse import urljoin

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from validate_stats import STATES, jsonschema_version, strict_loads  # noqa: E402

try:
    from jsonschema import Draft202012Validator, RefResolver
except ImportError as e:  # pragma: no cover
    print(f"validate_group_stats.py: python3-jsonschema is required ({e})", file=sys.stderr)
    sys.exit(2)

SERVING = ("ready", "degraded")
ROLES = {"primary", "replica", "shard"}


def make_validator(group_schema, pool_schema):
    for s in (group_schema, pool_schema):
        Draft202012Validator.check_schema(s)  # both are valid draft 2020-12
    # Members' documents are "$ref": "urn:connpool:stats:1": resolved from the store, not fetched.
    # RefResolver (jsonschema before 4.18) joins refs with urllib's urljoin, which leaves
    # "#/$defs/x" unjoined under a "urn:" base: a ref inside the pool schema would silently be
    # looked up in the group schema. Join fragments onto any base ourselves.
    def join(base, ref):
        if ref.startswith("#"):
            return base.split("#", 1)[0] + ref
        return urljoin(base, ref)

    resolver = RefResolver.from_schema(group_schema, store={pool_schema["$id"]: pool_schema},
                                       urljoin_cache=functools.lru_cache(1024)(join))
    return Draft202012Validator(group_schema, resolver=resolver)


def consistency(doc):
    """What the schema cannot say: the totals are the sums over the attached members' own
    documents, and the counts agree (exact because the dump reads stats while idle)."""
    out = []
    members = doc["members"]
    attached = [m for m in members if m["attached"]]
    t = doc["totals"]
    if t["members"] != len(members):
        out.append(f"totals.members {t['members']} != {len(members)} members listed")
    if t["attached"] != len(attached):
        out.append(f"totals.attached {t['attached']} != {len(attached)} attached members")
    serving = sum(m["state"] in SERVING for m in attached)
    if t["serving"] != serving:
        out.append(f"totals.serving {t['serving']} != {serving} attached members ready or degraded")
    for field in ("total", "idle", "in_use", "creating", "max_size"):
        s = sum(m["stats"]["connections"][field] for m in attached)
        if t["connections"][field] != s:
            out.append(f"totals.connections.{field} {t['connections'][field]} != {s}, the members' sum")
    for field, get in (("waiters", lambda st: st["waiters"]), ("acquired", lambda st: st["counters"]["acquired"])):
        s = sum(get(m["stats"]) for m in attached)
        if t[field] != s:
            out.append(f"totals.{field} {t[field]} != {s}, the members' sum")
    s = sum(m["acquired"] for m in members)
    if doc["counters"]["acquired"] != s:
        out.append(f"counters.acquired {doc['counters']['acquired']} != {s}, the sum of members[].acquired")
    for m in attached:
        if m["state"] != m["stats"]["state"]:
            out.append(f"member {m['name']!r}: state {m['state']} but its stats say {m['stats']['state']}")
        if m["acquired"] > m["stats"]["counters"]["acquired"]:
            out.append(f"member {m['name']!r}: acquired {m['acquired']} through the group, "
                       f"more than its pool's {m['stats']['counters']['acquired']}")
    names = [m["name"] for m in members]
    if len(set(names)) != len(names):
        out.append(f"member names repeat: {names}")
    if sum(m["attached"] and m["role"] == "primary" for m in members) > 1:
        out.append("more than one attached primary")
    return out


def schema_paths(schema):
    """Every property path the group schema declares ("totals.connections.idle",
    "members[].role"), not descending into the members' own documents (an external $ref)."""
    out = set()
    defs = schema.get("$defs", {})

    def walk(node, path):
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            node = defs[ref.split("/")[-1]]
        elif ref:
            return
        for alt in node.get("oneOf", []) + node.get("anyOf", []):
            walk(alt, path)
        if isinstance(node.get("items"), dict):
            walk(node["items"], path + "[]")
        for key, sub in node.get("properties", {}).items():
            p = f"{path}.{key}" if path else key
            out.add(p)
            walk(sub, p)

    walk(schema, "")
    return out


def documented_paths(md_text):
    """Field paths in the first column of the tables headed "| field |" in GROUPS.md's stats
    section. A row's later bare names share its first path's parent ("`counters.timeouts`,
    `unavailable`" is counters.unavailable); "x.*" stands for all of x's fields."""
    out = set()
    section = md_text.split("## Stats", 1)[-1].split("\n## ", 1)[0]
    in_table = False
    for line in section.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        if re.match(r"^\|\s*field\s*\|", line, re.I):
            in_table = True
            continue
        if not in_table:
            continue
        first_col = line.split("|")[1]
        tokens = re.findall(r"`([^`]+)`", first_col)
        if not tokens:
            continue
        head = tokens[0]
        parent = head.rsplit(".", 1)[0] if "." in head else ""
        for tok in tokens:
            if "." in tok or "[" in tok or not parent:
                out.add(tok)
            else:
                out.add(f"{parent}.{tok}")
    return out


def covered(path, documented):
    if path in documented:
        return True
    if any(d.startswith(path + ".") or d.startswith(path + "[]") for d in documented):
        return True  # a parent of documented fields
    parent = path.rsplit(".", 1)[0] if "." in path else None
    return parent is not None and f"{parent}.*" in documented


def mutations():
    """Broken copies of a live document the schema must reject, each breaking one rule."""
    def detached(d):
        return next(m for m in d["members"] if not m["attached"])

    def attached(d):
        return next(m for m in d["members"] if m["attached"])

    return {
        "missing totals": lambda d: d.pop("totals"),
        "unknown top-level field": lambda d: d.__setitem__("bogus", 1),
        "unknown group counter": lambda d: d["counters"].__setitem__("bogus", 1),
        "negative counter": lambda d: d["counters"].__setitem__("acquired", -1),
        "fractional total": lambda d: d["totals"]["connections"].__setitem__("idle", 0.5),
        "counter as string": lambda d: d["totals"].__setitem__("waiters", "0"),
        "unknown totals field": lambda d: d["totals"]["connections"].__setitem__("min_idle", 0),
        "last_error as object": lambda d: d.__setitem__(
            "last_error", {"message": "x", "code": 2, "code_name": "CONNPOOL_EINVAL", "age_ms": 0}),
        "members not an array": lambda d: d.__setitem__("members", {}),
        "unknown role": lambda d: attached(d).__setitem__("role", "leader"),
        "unknown member state": lambda d: attached(d).__setitem__("state", "sleeping"),
        "member without name": lambda d: attached(d).pop("name"),
        "unknown member field": lambda d: attached(d).__setitem__("weight", 1),
        "attached member without stats": lambda d: attached(d).__setitem__("stats", None),
        "detached member with stats": lambda d: detached(d).__setitem__("stats", copy.deepcopy(attached(d)["stats"])),
        "detached member not closed": lambda d: detached(d).__setitem__("state", "ready"),
        "writable disagrees with the primary": lambda d: d.__setitem__("writable", not d["writable"]),
        "readable disagrees with the members": lambda d: d.__setitem__("readable", not d["readable"]),
        # The members' documents are checked by the pool schema itself.
        "member stats with an unknown field": lambda d: attached(d)["stats"].__setitem__("bogus", 1),
        "member stats without connections": lambda d: attached(d)["stats"].pop("connections"),
        "member stats with an unknown counter": lambda d: attached(d)["stats"]["counters"].__setitem__("bogus", 1),
        # Refs inside the pool schema ("#/$defs/histogram") resolve in the pool schema.
        "member stats histogram without p99": lambda d: attached(d)["stats"]["acquire_wait_us"].pop("p99"),
        "member stats negative count": lambda d: attached(d)["stats"]["counters"].__setitem__("created", -1),
        "member stats http_status disagrees": lambda d: attached(d)["stats"].__setitem__(
            "http_status", 503 if attached(d)["stats"]["state"] in SERVING else 200),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", required=True)
    ap.add_argument("--pool-schema", required=True)
    ap.add_argument("--doc")
    ap.add_argument("--require-states", action="store_true")
    ap.add_argument("--expect-invalid")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()

    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    with open(args.pool_schema, encoding="utf-8") as f:
        pool_schema = json.load(f)
    validator = make_validator(schema, pool_schema)
    failures = []

    def errors_of(doc):
        return sorted(validator.iter_errors(doc), key=lambda e: list(e.path))

    if args.expect_invalid:
        with open(args.expect_invalid, "rb") as f:
            doc = strict_loads(f.read().decode("utf-8"))
        errors = errors_of(doc)
        for e in errors:
            print(f"rejected as expected: {'/'.join(str(p) for p in e.path) or '(root)'}: {e.message[:160]}")
        if not errors:
            print(f"FAIL: {args.expect_invalid}: the schema accepts a broken document", file=sys.stderr)
            return 1
        print(f"{args.expect_invalid}: {len(errors)} schema error(s), as it should")
        return 0

    cmd = [c for c in args.command if c != "--"]
    if not cmd:
        ap.error("a dump command (or --expect-invalid) is required")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, timeout=600)
    if proc.returncode != 0:
        failures.append(f"{cmd[0]} exited with {proc.returncode}")
    docs = []
    for n, raw in enumerate(proc.stdout.split(b"\n"), 1):
        if not raw:
            continue
        label, _, text = raw.partition(b"\t")
        label = f"line {n} ({label.decode('ascii', 'replace')})"
        try:
            doc = strict_loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            failures.append(f"{label}: not valid JSON: {e}")
            continue
        errors = errors_of(doc)
        for e in errors:
            failures.append(f"{label}: {'/'.join(str(p) for p in e.path) or '(root)'}: {e.message[:300]}")
        if not errors:
            docs.append((label, doc))
            failures.extend(f"{label}: {msg}" for msg in consistency(doc))
    print(f"validated {len(docs)} live group stats documents")

    if args.require_states:
        members = [m for _, d in docs for m in d["members"]]
        seen_states = {m["state"] for m in members}
        if not STATES <= seen_states:
            failures.append(f"member states never seen: {sorted(STATES - seen_states)}")
        checks = {
            "every role": ROLES <= {m["role"] for m in members},
            "a detached member": any(not m["attached"] for m in members),
            "an attached member that is closed": any(m["attached"] and m["state"] == "closed" for m in members),
            "a group with no members": any(not d["members"] for _, d in docs),
            "a writable group": any(d["writable"] for _, d in docs),
            "a group that is not writable but readable": any(not d["writable"] and d["readable"] for _, d in docs),
            "a group that is neither": any(not d["readable"] and d["members"] for _, d in docs),
            "a last_error": any(isinstance(d["last_error"], str) for _, d in docs),
            "a lease out": any(d["totals"]["connections"]["in_use"] > 0 for _, d in docs),
            "a read fallback or a skipped member": any(
                d["counters"]["read_fallbacks"] or d["counters"]["skipped_unavailable"] for _, d in docs),
            "a failed group acquire": any(
                d["counters"]["unavailable"] or d["counters"]["timeouts"] or d["counters"]["closed"] for _, d in docs),
            "a member with a last_error of its own": any(
                m["attached"] and isinstance(m["stats"]["last_error"], dict) for m in members),
        }
        failures.extend(f"never seen: {what}" for what, ok in checks.items() if not ok)

    # The schema must be able to say no: broken copies of a live document are rejected.
    base = next((d for _, d in docs if any(m["attached"] for m in d["members"])
                 and any(not m["attached"] for m in d["members"])), None)
    if base is None:
        failures.append("no document with both attached and detached members to break")
    else:
        for what, mutate in mutations().items():
            doc = copy.deepcopy(base)
            mutate(doc)
            if validator.is_valid(doc):
                failures.append(f"schema accepts a broken document ({what})")

    if args.doc:
        with open(args.doc, encoding="utf-8") as f:
            documented = documented_paths(f.read())
        declared = schema_paths(schema)
        for p in sorted(declared):
            if not covered(p, documented):
                failures.append(f"{args.doc}: field {p} is in the schema but not documented")
        for p in sorted(documented):
            if p.endswith(".*"):
                if not any(d.startswith(p[:-1]) for d in declared):
                    failures.append(f"{args.doc}: documents {p}, which the schema does not declare")
            elif p not in declared:
                failures.append(f"{args.doc}: documents {p}, which the schema does not declare")

    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    if not failures:
        print(f"all valid (jsonschema {jsonschema_version()}, draft 2020-12)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
