"""Write a synthetic tapaudit snapshot of N resources (benchmark input, not a test fixture).

    python3 bench/gen_snapshot.py N OUT.json

The template is the project's own data: the real snapshot fixtures/snapshots/noncompliant.json
(a risky stack: mostly failing) merged with the compliant States fixtures/state/compliant-*.json
(passing), which between them hold every resource type of the model but RDS clusters and
ElastiCache clusters. The template is copied until N resources exist; copy k renames every
resource id and ARN it contains (`<id>-g<k>`), so references between the copy's resources stay
consistent (a copy's database names the copy's security group). A third of the copies have
every known yes/no setting turned over (mostly failing), and every tenth copy has one field
per resource turned Unknown ("not read"), so the controls' error path runs too.
Account-level records keyed by region or account id (GuardDuty/Config per region, the account
summary) are not copied: an account has one of each.
"""
import json
import math
import re
import sys

ROOT = __file__.rsplit("/bench/", 1)[0]


def template():
    snap = json.load(open(f"{ROOT}/fixtures/snapshots/noncompliant.json"))
    for part in ["apps", "audit", "identity", "platform", "storage"]:
        state = json.load(open(f"{ROOT}/fixtures/state/compliant-{part}.json"))
        for svc, cols in state.items():
            for col, v in cols.items():
                if isinstance(v, dict) and "items" in v:
                    snap["state"][svc][col]["items"].update(v["items"])
    return snap


def items(snap):
    for svc, cols in snap["state"].items():
        for col, v in cols.items():
            if isinstance(v, dict) and "items" in v:
                for key, item in v["items"].items():
                    yield svc, col, key, item


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    snap = template()
    base = list(items(snap))
    regions_or_accounts = re.compile(r"^([a-z]{2}-[a-z]+-\d|\d{12}|global)$")
    names = set()
    fixed = []
    for svc, col, key, item in base:
        rid = item["meta"]["id"]
        if regions_or_accounts.match(rid):
            fixed.append((svc, col, key))
        elif len(rid) >= 4:
            names.add(rid)
    pattern = re.compile("|".join(re.escape(x) for x in sorted(names, key=len, reverse=True)))
    copyable = [(s, c, k, json.dumps(i)) for s, c, k, i in base if (s, c, k) not in fixed]
    for svc, col, key, _ in copyable:
        del snap["state"][svc][col]["items"][key]
    target = max(n - len(fixed), 0)
    copies = math.ceil(target / max(len(copyable), 1))
    made = 0
    for k in range(copies):
        suffix = f"-g{k}"
        for svc, col, key, text in copyable:
            if made >= target:
                break
            rename = lambda m: m.group(0) + suffix  # noqa: E731
            item = json.loads(pattern.sub(rename, text))
            if k % 3 == 1:
                # a third of the copies misconfigured: every known yes/no setting turned over
                # (encryption off, rotation off, public on, ...)
                for field, value in item.items():
                    if field != "meta" and isinstance(value, dict) and isinstance(value.get("known"), bool):
                        value["known"] = not value["known"]
            if k % 10 == 9:
                for field, value in item.items():
                    if field != "meta" and isinstance(value, dict) and set(value) == {"known"}:
                        item[field] = {"unknown": "bench: not read"}
                        break
            snap["state"][svc][col]["items"][pattern.sub(rename, key)] = item
            made += 1
    with open(out, "w") as f:
        json.dump(snap, f)
    print(made + len(fixed))


if __name__ == "__main__":
    main()
