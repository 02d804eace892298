"""docs/scenario-reference.md is generated from the scenario models and must be current."""

from __future__ import annotations

from pathlib import Path

from townsquare.reference import SECTIONS, reference_markdown

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scenario-reference.md"


def test_reference_page_is_up_to_date() -> None:
    expected = reference_markdown()
    assert PAGE.read_text(encoding="utf-8") == expected, (
        "regenerate with: python -c \"from townsquare.reference import reference_markdown as r;"
        " open('docs/scenario-reference.md', 'w').write(r())\""
    )


def test_every_field_is_described() -> None:
    missing = [f"{title}: {name}" for title, model in SECTIONS
               for name, info in model.model_fields.items() if not info.description]
    assert missing == []
