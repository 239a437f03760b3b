"""Server-rendered pages: the public help page, the staff search and the editor.

One module per group of pages, each with its own module-level router; what they
need comes from `app.state` (`web/dependencies.py`). Everything works without
JavaScript. Entry bodies are plain text shown as paragraphs (the templates
autoescape), never HTML.
"""

from __future__ import annotations

from fastapi import APIRouter

from indgang_guide.web.pages import editor, public, staff

router = APIRouter(include_in_schema=False)
router.include_router(public.router)
router.include_router(staff.router)
router.include_router(editor.router)
