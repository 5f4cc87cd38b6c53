#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Validates live stats JSON against docs/stats.schema.json with a real JSON Schema validator
(python3-jsonschema), and checks that docs/STATS.md documents exactly the schema's fields.

Usage:
  validate_stats.py --schema SCHEMA [--doc STATS.md] [--require-states] -- COMMAND [ARGS...]
      runs COMMAND, which prints "<label>\\t<json>" lines (stats_states_dump), and validates each.
  validate_stats.py --schema SCHEMA --stdin-json {doc,array,map}
      validates one JSON value read from stdin: a stats document, an array of them, or an
      object whose members are (the admin server's /stats).
Exits 0 when everything is valid, 1 otherwise, 2 on usage errors or a missing validator.
"""
import argparse
import copy
import json
import re
import subprocess
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError as e:  # pragma: no cover
    print(f"validate_stats.py: python3-jsonschema is required ({e})", file=sys.stderr)
    sys.exit(2)

STATES = {"starting", "ready", "degraded", "unavailable", "draining", "closed"}


def schema_paths(schema, prefix=""):
    """Every property path the schema declares, dotted ("connections.idle", "leaks[].lease")."""
    out = set()
    defs = schema.get("$defs", {})

    def walk(node, path):
        if "$ref" in node:
            node = defs[node["$ref"].split("/")[-1]]
        for alt in node.get("oneOf", []) + node.get("anyOf", []):
            walk(alt, path)
        if "items" in node and isinstance(node["items"], dict):
            walk(node["items"], path + "[]")
        for key, sub in node.get("properties", {}).items():
            p = f"{path}.{key}" if path else key
            out.add(p)
            walk(sub, p)

    walk(schema, prefix)
    return out


def documented_paths(md_text):
    """Field paths in the first column (`code` spans) of the STATS.md tables headed "| Field |"."""
    out = set()
    in_field_table = False
    for line in md_text.splitlines():
        if not line.startswith("|"):
            in_field_table = False
            continue
        if re.match(r"^\|\s*Field\s*\|", line):
            in_field_table = True
            continue
        m = re.match(r"^\|\s*`([^`]+)`\s*\|", line)
        if m and in_field_table:
            out.add(m.group(1))
    return out


def jsonschema_version():
    try:
        from importlib.metadata import version
        return version("jsonschema")
    except Exception:  # noqa: BLE001 - only for the report line
        return "?"


def strict_loads(text):
    def no_constants(name):
        raise ValueError(f"non-JSON constant {name}")

    return json.loads(text, parse_constant=no_constants)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", required=True)
    ap.add_argument("--doc")
    ap.add_argument("--require-states", action="store_true")
    ap.add_argument("--stdin-json", choices=["doc", "array", "map"])
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()

    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)  # the schema itself is valid draft 2020-12
    validator = Draft202012Validator(schema)
    failures = []

    def validate(label, doc):
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        for e in errors:
            where = "/".join(str(p) for p in e.path) or "(root)"
            failures.append(f"{label}: {where}: {e.message}")
        return not errors

    if args.stdin_json:
        raw = sys.stdin.buffer.read()
        try:
            value = strict_loads(raw.decode("utf-8"))  # strict UTF-8, as a JSON consumer must
        except (UnicodeDecodeError, ValueError) as e:
            print(f"not valid JSON: {e}", file=sys.stderr)
            return 1
        if args.stdin_json == "doc":
            docs = {"document": value}
        elif args.stdin_json == "array" and isinstance(value, list):
            docs = {f"document {i}": d for i, d in enumerate(value)}
        elif args.stdin_json == "map" and isinstance(value, dict):
            docs = {f"member {k!r}": d for k, d in value.items()}
        else:
            print(f"not a JSON {args.stdin_json}", file=sys.stderr)
            return 1
        if not docs:
            failures.append("no stats documents")
        for label, d in docs.items():
            validate(label, d)
    else:
        cmd = [c for c in args.command if c != "--"]
        if not cmd:
            ap.error("a dump command is required")
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, timeout=600)
        if proc.returncode != 0:
            failures.append(f"{cmd[0]} exited with {proc.returncode}")
        docs = []
        for n, raw in enumerate(proc.stdout.split(b"\n"), 1):
            if not raw:
                continue
            label, _, text = raw.partition(b"\t")
            label = label.decode("ascii", "replace")
            try:
                doc = strict_loads(text.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                failures.append(f"line {n} ({label}): not valid JSON: {e}")
                continue
            docs.append((label, doc))
            validate(f"line {n} ({label})", doc)
        print(f"validated {len(docs)} live stats documents")

        if args.require_states:
            seen = {d.get("state") for _, d in docs}
            if not STATES <= seen:
                failures.append(f"states never seen: {sorted(STATES - seen)}")
            if not any(d.get("leaks") for _, d in docs):
                failures.append("no document with leaks")
            if not any(isinstance(d.get("last_error"), dict) for _, d in docs):
                failures.append("no document with a last_error")
            if not any((d.get("retry") or {}).get("next_attempt_in_ms") is not None for _, d in docs):
                failures.append("no document with a scheduled retry")

        # The schema must be able to say no: broken copies of a live document are rejected.
        if docs:
            base = next((d for _, d in docs if d.get("leaks") and d.get("last_error")), docs[0][1])
            mutations = {
                "missing connections": lambda d: d.pop("connections"),
                "unknown top-level field": lambda d: d.__setitem__("bogus", 1),
                "unknown counter": lambda d: d["counters"].__setitem__("bogus", 1),
                "negative counter": lambda d: d["counters"].__setitem__("acquired", -1),
                "fractional gauge": lambda d: d["connections"].__setitem__("idle", 1.5),
                "unknown state": lambda d: d.__setitem__("state", "sleeping"),
                "http_status disagrees with state": lambda d: d.__setitem__(
                    "http_status", 503 if d["state"] in ("ready", "degraded") else 200),
                "missing p99": lambda d: d["acquire_wait_us"].pop("p99"),
                "retry time as string": lambda d: d["retry"].__setitem__("next_attempt_in_ms", "soon"),
                "leak thread as number": lambda d: d["leaks"].append(
                    {"lease": 1, "held_ms": 1, "thread": 5, "priority": 0}),
                "last_error without message": lambda d: d.__setitem__(
                    "last_error", {"code": 7, "code_name": "CONNPOOL_EFACTORY", "age_ms": 1}),
            }
            for what, mutate in mutations.items():
                doc = copy.deepcopy(base)
                mutate(doc)
                if validator.is_valid(doc):
                    failures.append(f"schema accepts a broken document ({what})")

    if args.doc:
        with open(args.doc, encoding="utf-8") as f:
            documented = documented_paths(f.read())
        declared = schema_paths(schema)
        for p in sorted(declared - documented):
            failures.append(f"{args.doc}: field {p} is in the schema but not documented")
        for p in sorted(documented - declared):
            failures.append(f"{args.doc}: documents {p}, which the schema does not declare")

    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    if not failures:
        print(f"all valid (jsonschema {jsonschema_version()}, draft 2020-12)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
