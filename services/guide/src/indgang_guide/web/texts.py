"""The guide's page texts, Danish first; English where a reader may need it."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    # Public page
    "help.title": {
        "da": "Hvad kan kommunen hjælpe med?",
        "en": "What can the municipality help with?",
    },
    "help.lead": {
        "da": "Driver du eller vil du starte en socialøkonomisk virksomhed, har kommunen én "
        "indgang til dig: en fast konsulent, som er din kontakt hele vejen og trækker de "
        "rette afdelinger og eksterne aktører ind.",
        "en": "If you run or want to start a social-economy enterprise, the municipality has "
        "one entrance for you: one named consultant who stays your contact all the way and "
        "brings in the right departments and outside providers. The pages below are in Danish.",
    },
    "help.can": {"da": "Det kan kommunen", "en": "What the municipality can do"},
    "help.can.items": {
        "da": "Give dig én fast kontakt, der ikke sender dig videre og glemmer dig.|"
        "Give grundlæggende, lokal erhvervsvejledning, fx om at starte og drive virksomhed "
        "her i kommunen (erhvervsfremmeloven § 14).|"
        "Introducere den beskæftigelses- og erhvervslovgivning, der er relevant for dig.|"
        "Skabe kontakt til Jobcentret, hvis du vil ansætte eller træne ledige, fx med "
        "løntilskud, virksomhedspraktik, mentor eller fleksjob.|"
        "Hjælpe dig med at forberede en registrering som registreret socialøkonomisk "
        "virksomhed (RSV).|"
        "Skabe kontakt til kommunens indkøbsafdeling og henvise dig til Erhvervshuset, "
        "kurser og andre relevante tilbud.",
        "en": "Give you one named contact who does not pass you on and forget you.|"
        "Give basic local business guidance, e.g. on starting and running a business here "
        "(Business Promotion Act § 14).|"
        "Introduce the employment and business legislation that matters to you.|"
        "Put you in touch with the job centre (Jobcentret) if you want to employ or train "
        "unemployed people, e.g. with wage subsidy, work placement, a mentor or a flex job.|"
        "Help you prepare registration as a registered social-economy enterprise (RSV).|"
        "Put you in touch with the municipality's procurement department, and refer you "
        "to the regional Business Hub (Erhvervshus), courses and other relevant offers.",
    },
    "help.cannot": {"da": "Det kan kommunen ikke", "en": "What the municipality cannot do"},
    "help.cannot.items": {
        "da": "Give direkte økonomisk støtte eller tilskud til den enkelte virksomhed "
        "(erhvervsfremmeloven § 14). Konsulenten kan fortælle om ordninger og fonde, du selv "
        "kan søge.|"
        "Give specialiseret forretningsrådgivning, fx om forretningsplan, forretningsmodel, "
        "finansiering og vækst. Den giver Erhvervshuset gratis, og konsulenten hjælper dig "
        "derhen.|"
        "Love ordrer eller aftaler: kommunen køber ind efter udbudsreglerne.|"
        "Love, at bestemte borgere kommer i praktik, løntilskud eller fleksjob hos dig: "
        "Jobcentret vurderer altid den enkelte borgers behov.",
        "en": "Give direct financial support or grants to an individual enterprise (Business "
        "Promotion Act § 14). The consultant can tell you about schemes and funds you can "
        "apply to yourself.|"
        "Give specialised business advice, e.g. on your business plan, business model, "
        "funding and growth. The regional Business Hub (Erhvervshus) gives it free of "
        "charge, and the consultant helps you get there.|"
        "Promise orders or contracts: the municipality buys under the procurement rules.|"
        "Promise that particular people will be placed with you: the job centre always "
        "assesses each person's needs.",
    },
    "help.sections": {"da": "Hjælp og vejledning", "en": "Help and guidance"},
    "help.contact": {"da": "Skriv til os", "en": "Write to us"},
    "help.contact.text": {
        "da": "Skriv til kommunen med formularen. Du får en kvittering, og din konsulent "
        "kontakter dig.",
        "en": "Write to the municipality using the form. You get a receipt, and your "
        "consultant will contact you.",
    },
    "help.form": {"da": "Gå til formularen", "en": "Go to the form"},
    "unit.title": {"da": "Her finder du os", "en": "Where to find us"},
    "unit.intro": {
        "da": "Du kan også ringe til eller besøge {name} i {municipality}.",
        "en": "You can also call or visit {name} at {municipality}.",
    },
    "unit.phone": {"da": "Telefon", "en": "Phone"},
    "unit.address": {"da": "Adresse", "en": "Address"},
    "help.empty": {"da": "Der er ingen opslag her endnu.", "en": "No entries here yet."},
    "help.back": {"da": "Tilbage til oversigten", "en": "Back to the overview"},
    "help.danish_only": {
        "da": "",
        "en": "This text is only available in Danish.",
    },
    # Entry
    "entry.sources": {"da": "Kilder", "en": "Sources"},
    "entry.law": {"da": "Lov", "en": "Act"},
    "entry.law_reference": {"da": "Lovnummer", "en": "Act number"},
    "entry.section_ref": {"da": "Paragraf", "en": "Section"},
    "entry.official_url": {"da": "Officiel lovtekst", "en": "Official text"},
    "entry.administered_by": {"da": "Administreres af", "en": "Administered by"},
    "entry.eligibility": {"da": "Hvem kan bruge ordningen", "en": "Who is eligible"},
    "entry.how_to_apply": {"da": "Sådan søger man", "en": "How to apply"},
    "entry.provider": {"da": "Udbyder", "en": "Provider"},
    "entry.contact": {"da": "Kontakt", "en": "Contact"},
    "entry.price": {"da": "Pris", "en": "Price"},
    "entry.owner": {"da": "Ansvarlig", "en": "Owner"},
    "entry.review_by": {"da": "Revideres senest", "en": "Review by"},
    "entry.version": {"da": "Version", "en": "Version"},
    "entry.needs_review": {
        "da": "Dette opslag skal tjekkes: noget i teksten er ikke bekræftet.",
        "en": "This entry must be checked: part of it is not verified.",
    },
    "entry.to_check": {"da": "Skal tjekkes", "en": "Must be checked"},
    "entry.history": {"da": "Versionshistorik", "en": "Version history"},
    "entry.edit": {"da": "Redigér", "en": "Edit"},
    # Staff search
    "search.title": {"da": "Guiden: find hjælp", "en": "The guide: find help"},
    "search.q": {"da": "Søg", "en": "Search"},
    "search.q.hint": {
        "da": "Fx »løntilskud«, »sociale klausuler« eller »RSV«.",
        "en": "E.g. »løntilskud«, »sociale klausuler« or »RSV«.",
    },
    "search.submit": {"da": "Søg", "en": "Search"},
    "search.all": {"da": "Alle", "en": "All"},
    "search.section": {"da": "Sektion", "en": "Section"},
    "search.need": {"da": "Behov", "en": "Need"},
    "search.stage": {"da": "Fase", "en": "Stage"},
    "search.kind": {"da": "Type", "en": "Kind"},
    "search.results": {"da": "Resultater", "en": "Results"},
    "search.count": {"da": "opslag fundet", "en": "entries found"},
    "search.none": {
        "da": "Ingen opslag passer. Prøv et andet ord eller færre filtre.",
        "en": "No entries match. Try another word or fewer filters.",
    },
    "nav.guide": {"da": "Guiden", "en": "The guide"},
    "nav.editor": {"da": "Redaktion", "en": "Editing"},
    "nav.public": {"da": "Offentlig side", "en": "Public page"},
    # Editor
    "editor.title": {"da": "Redaktion af guiden", "en": "Editing the guide"},
    "editor.new": {"da": "Nyt opslag", "en": "New entry"},
    "editor.due": {"da": "Skal revideres", "en": "Due for review"},
    "editor.due.none": {"da": "Ingen opslag skal revideres nu.", "en": "Nothing is due."},
    "editor.all": {"da": "Alle opslag", "en": "All entries"},
    "editor.status": {"da": "Status", "en": "Status"},
    "editor.edit_title": {"da": "Redigér opslag", "en": "Edit entry"},
    "editor.preview": {"da": "Forhåndsvis", "en": "Preview"},
    "editor.preview.title": {"da": "Forhåndsvisning", "en": "Preview"},
    "editor.preview.note": {
        "da": "Sådan kommer opslaget til at se ud. Det er ikke gemt endnu.",
        "en": "This is how the entry will look. It is not saved yet.",
    },
    "editor.save": {"da": "Gem ny version", "en": "Save new version"},
    "editor.publish": {"da": "Udgiv", "en": "Publish"},
    "editor.unpublish": {"da": "Afpublicér", "en": "Unpublish"},
    "editor.saved": {"da": "Gemt som version", "en": "Saved as version"},
    "editor.published": {"da": "Udgivet som version", "en": "Published as version"},
    "editor.unpublished": {"da": "Afpubliceret i version", "en": "Unpublished in version"},
    "editor.errors": {"da": "Der er problemer", "en": "There is a problem"},
    "editor.conflict": {
        "da": "Opslaget er gemt af en anden, mens du redigerede. Åbn det igen, og før dine "
        "ændringer ind i den nye version.",
        "en": "Someone else saved the entry while you were editing. Open it again and "
        "apply your changes to the new version.",
    },
    "editor.exists": {"da": "Der findes allerede et opslag med det id.", "en": "That id exists."},
    "editor.error_prefix": {"da": "Fejl:", "en": "Error:"},
    "history.version": {"da": "Version", "en": "Version"},
    "history.when": {"da": "Tidspunkt", "en": "When"},
    "history.who": {"da": "Hvem", "en": "Who"},
    "history.what": {"da": "Hvad blev ændret", "en": "What changed"},
    "history.action": {"da": "Handling", "en": "Action"},
    "history.view": {"da": "Vis version", "en": "View version"},
    "history.old": {
        "da": "Du ser en tidligere version. Den gældende version er",
        "en": "You are looking at an earlier version. The current version is",
    },
    "action.created": {"da": "Oprettet", "en": "Created"},
    "action.edited": {"da": "Redigeret", "en": "Edited"},
    "action.published": {"da": "Udgivet", "en": "Published"},
    "action.unpublished": {"da": "Afpubliceret", "en": "Unpublished"},
    "action.loaded_from_file": {"da": "Indlæst fra indholdsfil", "en": "Loaded from file"},
    # Form fields
    "field.id": {"da": "Id (bruges i adressen)", "en": "Id (used in the address)"},
    "field.id.hint": {
        "da": "Små bogstaver a-z, tal og bindestreger, fx »sociale-klausuler«.",
        "en": "Lower-case a-z, digits and hyphens.",
    },
    "field.section": {"da": "Sektion", "en": "Section"},
    "field.kind": {"da": "Type", "en": "Kind"},
    "field.title": {"da": "Titel", "en": "Title"},
    "field.summary": {"da": "Resumé", "en": "Summary"},
    "field.summary.hint": {"da": "Højst 600 tegn.", "en": "At most 600 characters."},
    "field.body": {"da": "Tekst", "en": "Text"},
    "field.body.hint": {
        "da": "Almindelig tekst. En tom linje starter et nyt afsnit.",
        "en": "Plain text. A blank line starts a new paragraph.",
    },
    "field.needs": {"da": "Behov", "en": "Needs"},
    "field.stages": {"da": "Faser", "en": "Stages"},
    "field.audience": {"da": "Målgruppe", "en": "Audience"},
    "field.owner": {"da": "Ansvarlig", "en": "Owner"},
    "field.review_by": {"da": "Revideres senest", "en": "Review by"},
    "field.review_by.hint": {"da": "Dato som ÅÅÅÅ-MM-DD.", "en": "Date as YYYY-MM-DD."},
    "field.needs_review": {
        "da": "Skal tjekkes (noget er ikke bekræftet)",
        "en": "Must be checked (part is not verified)",
    },
    "field.to_check": {
        "da": "Hvad skal tjekkes (kun for medarbejdere)",
        "en": "What must be checked (staff only)",
    },
    "field.to_check.hint": {
        "da": "Hvad er ikke bekræftet, og mod hvilken kilde skal det tjekkes, fx "
        "retsinformation.dk eller den ansvarlige styrelse. Vises aldrig på den offentlige "
        "side. Tøm feltet, når det er tjekket.",
        "en": "What is not verified, and against which source it must be checked, e.g. "
        "retsinformation.dk or the responsible agency. Never shown on the public page. "
        "Empty the field once it is checked.",
    },
    "field.tags": {"da": "Nøgleord", "en": "Tags"},
    "field.tags.hint": {"da": "Adskilt af komma.", "en": "Separated by commas."},
    "field.sources": {"da": "Kilder", "en": "Sources"},
    "field.sources.hint": {
        "da": "Én kilde pr. linje: titel | https://adresse",
        "en": "One source per line: title | https://address",
    },
    "field.law": {"da": "Lov", "en": "Act"},
    "field.law_reference": {"da": "Lovnummer og dato", "en": "Act number and date"},
    "field.section_ref": {"da": "Paragraf", "en": "Section"},
    "field.official_url": {"da": "Link til den officielle lovtekst", "en": "Official text"},
    "field.administered_by": {"da": "Administreres af", "en": "Administered by"},
    "field.eligibility": {"da": "Hvem kan bruge ordningen", "en": "Who is eligible"},
    "field.how_to_apply": {"da": "Sådan søger man", "en": "How to apply"},
    "field.provider": {"da": "Udbyder", "en": "Provider"},
    "field.contact": {"da": "Kontakt", "en": "Contact"},
    "field.price": {"da": "Pris", "en": "Price"},
    "field.kind_facts": {
        "da": "Oplysninger til lovgivning, støtteordninger og tilbud",
        "en": "Facts for legislation, support schemes and offers",
    },
    "field.entry": {"da": "Opslag", "en": "Entry"},
}
