"""Writes gallery.md: every claim of the catalogue with its statement, source, assumptions, expected
verdict, the verdict and evidence of the committed full-settings run (figures/REPORT data), and figure."""

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _recorded() -> dict:
    """The verdicts of the committed gallery run (figures/verdicts.json), if present."""
    path = ROOT / "figures" / "verdicts.json"
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    quick = {k.split("@")[0]: v for k, v in stored.items() if k.endswith("@quick")}
    full = {k.split("@")[0]: v for k, v in stored.items() if k.endswith("@full")}
    return {**quick, **full}  # full settings where they were run


def write(srcdir: Path) -> Path:
    import convsim.claims as claims

    found = claims.discover()
    recorded = _recorded()
    figures = srcdir / "_static" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    lines = ["# Claim gallery", "",
             f"Every claim of the catalogue ({len(found)}, with their negative controls), by family, with the verdict "
             "of the committed runs (`figures/`; full settings where they were run, else quick).", ""]
    for family in claims.FAMILIES:
        members = [c for c in found.values() if c.family == family]
        if not members:
            continue
        lines += [f"## {family}", ""]
        for c in members:
            lines += [f"### `{c.id}`", "", f"**Statement.** {c.statement}", "",
                      f"**Source.** {c.source.cite()}", ""]
            if c.assumptions:
                lines += ["**Assumptions.** " + "; ".join(c.assumptions) + ".", ""]
            lines += [f"**Expected verdict.** {c.expected}" + (f" (negative control of `{c.negative_of}`)"
                                                              if c.negative_of else ""), ""]
            if c.mutations:
                lines += ["**Mutations.** " + "; ".join(f"{m.name} ({m.expect}{': ' + m.why if m.why else ''})"
                                                        for m in c.mutations) + ".", ""]
            r = recorded.get(c.id)
            if r:
                where = "quick" if r.get("quick") else "full"
                lines += [f"**Verdict ({where} settings).** {r['verdict']}: {r['evidence']['reason']}", ""]
            png = ROOT / "figures" / f"{c.id}.png"
            if png.exists():
                shutil.copy(png, figures / png.name)
                lines += [f"![{c.id}](_static/figures/{png.name})", ""]
    out = srcdir / "gallery.md"
    out.write_text("\n".join(lines) + "\n")
    return out
