"""The report pages for team leads and management: a chosen period (from, to, per week or
month) and filters (consultant, door, department), each table with a bar chart (SVG, with
a text alternative) beside it and a CSV link. Server-rendered, no JavaScript needed,
Danish first (`?lang=en`). Nothing here changes state, so there are no forms to protect
beyond the sign-out (which carries the CSRF token)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from indgang_contracts.events import Department, InquiryChannel
from indgang_contracts.labels import Language, label
from indgang_reporting.domain.figures import Selection
from indgang_reporting.handlers.reports import report
from indgang_reporting.web.access import reader
from indgang_reporting.web.charts import Bar, bar_chart
from indgang_reporting.web.selection import PageSelection, page_selection, selection
from indgang_reporting.web.state import Store
from indgang_reporting.web.tables import (
    BY_SLUG,
    REPORT_NAMES,
    REPORT_TABLES,
    Table,
    cell,
    consultant_ids,
    csv_filename,
    csv_text,
    key_label,
    table_of,
)
from indgang_runtime.pages import Translations, language
from indgang_runtime.web import render

TEXTS: dict[str, dict[str, str]] = {
    "reports.title": {"da": "Rapporter", "en": "Reports"},
    "reports.intro": {
        "da": "Hvad Én indgang opnår: henvendelser, første kontakt, henvisninger, lukkede "
        "sager, social værdi og RSV-parathed. Tallene bygger alene på hændelserne fra de "
        "andre dele af systemet og indeholder ingen persondata om virksomhederne.",
        "en": "What One entrance achieves: inquiries, first contact, referrals, closed "
        "cases, social value and RSV readiness. The figures are built from the other "
        "parts' events alone and hold no personal data about the enterprises.",
    },
    "reports.choose": {"da": "Vælg periode og filtre", "en": "Choose period and filters"},
    "reports.from": {"da": "Fra og med", "en": "From"},
    "reports.to": {"da": "Til og med", "en": "To"},
    "reports.per": {"da": "Rækker pr.", "en": "Rows per"},
    "reports.week": {"da": "Uge", "en": "Week"},
    "reports.month": {"da": "Måned", "en": "Month"},
    "reports.consultant": {"da": "Konsulent (bruger-id)", "en": "Consultant (user id)"},
    "reports.door": {"da": "Indgang", "en": "Door"},
    "reports.department": {"da": "Afdeling", "en": "Department"},
    "reports.all": {"da": "Alle", "en": "All"},
    "reports.show": {"da": "Vis", "en": "Show"},
    "reports.csv": {"da": "Hent som CSV (Excel)", "en": "Download as CSV (Excel)"},
    "reports.json": {"da": "Som JSON", "en": "As JSON"},
    "reports.none": {"da": "Ingen tal i perioden.", "en": "No figures in the period."},
    "reports.chart": {"da": "Diagram", "en": "Chart"},
    "reports.chart.summary": {
        "da": "Søjlediagram; de samme tal står i tabellen",
        "en": "Bar chart; the same figures are in the table",
    },
    "reports.period": {"da": "Periode", "en": "Period"},
    "reports.door.note": {
        "da": "Filteret på indgang gælder henvendelser og første kontakt; afdeling gælder "
        "henvisninger og social værdi gennem henvisninger; konsulent gælder alle.",
        "en": "The door filter applies to inquiries and first contact; the department "
        "filter to referrals and social value through referrals; consultant to all.",
    },
    "reports.note.social-value": {
        "da": "To kilder vises hver for sig og lægges ikke sammen: det konsulenten har "
        "registreret på sagerne (efter den dag værdien hører til), og udfaldet af "
        "afsluttede henvisninger, som afdelingerne har meldt tilbage (efter afslutningen). "
        "Den samme person kan stå i begge, og intet binder de to sammen, så en sum ville "
        "kunne tælle nogen to gange. En rettet registrering tæller med sin seneste udgave, "
        "en tilbagetrukket tæller ikke. Filteret på afdeling gælder kun henvisningerne.",
        "en": "Two sources are shown side by side and not added up: what the consultants "
        "recorded on the cases (by the day the value belongs to), and the outcomes of "
        "completed referrals as the departments reported them (by completion). The same "
        "person can be in both and nothing links the two, so a sum could count someone "
        "twice. A corrected recording counts in its latest version, a withdrawn one not at "
        "all. The department filter applies to the referrals only.",
    },
    "reports.note.closed": {
        "da": "En sag tæller én gang pr. periode, den er lukket i. Den sociale værdi ved "
        "lukningen er konsulentens registreringer på sagen (seneste udgave, ikke "
        "tilbagetrukne), hvis dag ligger på eller før sagens seneste lukning i perioden – "
        "også når de er skrevet ind lige efter lukningen. Lukningens begrundelse i fritekst "
        "indgår ikke.",
        "en": "A case counts once per period it was closed in. Its social value at closing "
        "is the consultant's recordings on the case (latest version, not withdrawn) whose "
        "day is on or before the case's last closing in the period – also when entered "
        "just after the closing. The closing's reason in free text is not counted.",
    },
    "reports.note.rsv-readiness": {
        "da": "RSV-tjeklisten på sagen: de fem registreringskriterier i lov nr. 711/2014 "
        "§ 5, hvert opfyldt, ikke endnu eller ved ikke. Hver sag tæller én gang med sin "
        "seneste tjekliste, i den periode tjeklisten sidst blev ændret. Klar betyder alle "
        "fem opfyldt; registreret er det konsulenten har markeret.",
        "en": "The RSV checklist on the case: the five registration criteria of Act no. "
        "711/2014 § 5, each met, not yet or unknown. Each case counts once with its latest "
        "checklist, in the period the checklist was last changed. Ready means all five "
        "met; registered is what the consultant marked.",
    },
    "reports.overdue_now": {"da": "Overskredet frist nu i alt", "en": "Overdue now in all"},
    "reports.nav": {"da": "Rapporter", "en": "Reports"},
    "reports.invalid": {
        "da": "Det valgte kunne ikke bruges, så standardværdien vises i stedet for:",
        "en": "What was chosen could not be used, so the default is shown instead for:",
    },
}
TRANSLATIONS = Translations(TEXTS)

router = APIRouter(include_in_schema=False)
Reader = Annotated[str, Depends(reader)]
Chosen = Annotated[Selection, Depends(selection)]
ChosenOnPage = Annotated[PageSelection, Depends(page_selection)]
_FIELD_KEYS = {
    "from": "reports.from",
    "to": "reports.to",
    "per": "reports.per",
    "door": "reports.door",
    "department": "reports.department",
}


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/rapporter", status.HTTP_303_SEE_OTHER)


@router.get("/rapporter")
async def reports_home() -> RedirectResponse:
    return RedirectResponse("/rapporter/henvendelser", status.HTTP_303_SEE_OTHER)


def _query(request: Request) -> str:
    keep = {k: v for k, v in request.query_params.items() if k != "lang" and v}
    return urlencode(keep)


def _lang(request: Request) -> Language:
    found: Language = language(request)
    return found


def _table_view(
    name: str,
    table: Table,
    result: Any,
    lang: Language,
    query: str,
    slug: str,
    names: Mapping[str, str],
) -> dict[str, Any]:
    rows = table.rows(result)
    labelled = [
        {
            "label": key_label(table.key, str(row.get("key", "")), lang, names),
            "cells": [cell(row.get(c.field), c.kind, lang) for c in table.columns],
            "total": row.get("key") == "total",
        }
        for row in rows
    ]
    chart = ""
    if table.chart is not None:
        column = next(c for c in table.columns if c.field == table.chart)
        bars = [
            Bar(
                key_label(table.key, str(row.get("key", "")), lang, names),
                float(row.get(table.chart) or 0),
                cell(row.get(table.chart), column.kind, lang),
            )
            for row in rows
            if row.get("key") != "total"
        ]
        summary = TEXTS["reports.chart.summary"][lang]
        chart = bar_chart(
            f"chart-{name}-{table.name}",
            f"{table.title(lang)}: {column.name(lang)}",
            bars,
            summary,
        )
    return {
        "id": f"{name}-{table.name}",
        "title": table.title(lang),
        "key_column": table.key_column(lang),
        "columns": [c.name(lang) for c in table.columns],
        "rows": labelled,
        "chart": Markup(chart),  # built from escaped parts (charts.py)
        "csv": f"/rapporter/{slug}/{table.name}.csv" + (f"?{query}" if query else ""),
    }


@router.get("/rapporter/{slug}", response_class=HTMLResponse)
async def report_page(
    request: Request, slug: str, who: Reader, store: Store, found: ChosenOnPage
) -> Response:
    name = BY_SLUG.get(slug)
    if name is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such report")
    lang = _lang(request)
    chosen = found.chosen
    result = await report(store, name, chosen)
    names = await store.names(consultant_ids(result))
    query = _query(request)
    invalid = [
        (str(p["loc"][-1]), TEXTS[_FIELD_KEYS.get(str(p["loc"][-1]), "reports.from")][lang])
        for p in found.problems
    ]
    api = f"/api/v1/reports/{name}" + (f"?{query}" if query else "")
    return render(
        request,
        "reporting/report.html",
        {
            "reports": [
                {"slug": s, "title": da if lang == "da" else en, "current": s == slug}
                for s, da, en in REPORT_NAMES.values()
            ],
            "report_title": REPORT_NAMES[name][1 if lang == "da" else 2],
            "slug": slug,
            "name": name,
            "tables": [
                _table_view(name, t, result, lang, query, slug, names) for t in REPORT_TABLES[name]
            ],
            "extra": {"overdue_now_total": getattr(result, "overdue_now_total", None)},
            "note": TEXTS.get(f"reports.note.{name}", {}).get(lang),
            "chosen": chosen,
            "doors": [(c.value, label(c, lang)) for c in InquiryChannel],
            "departments": [(d.value, label(d, lang)) for d in Department],
            "api": api,
            "invalid": invalid,
        },
        status_code=422 if invalid else 200,
    )


@router.get("/rapporter/{slug}/{table}.csv")
async def report_csv(
    request: Request, slug: str, table: str, who: Reader, store: Store, chosen: Chosen
) -> Response:
    name = BY_SLUG.get(slug)
    found = table_of(name, table) if name else None
    if name is None or found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such table")
    result = await report(store, name, chosen)
    lang = _lang(request)
    names = await store.names(consultant_ids(result))
    filename = csv_filename(slug, found, chosen.span.start, chosen.span.end)
    return Response(
        csv_text(found, result, lang, names).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
