"""The wire shapes of projects and their updates (docs/protocol.md, "Projects")."""

from __future__ import annotations

from typing import Any

from chat.clock import iso_ms
from chat.models import Project, ProjectDocument, ProjectUpdate, User
from chat.projects.service import may_edit


def document_json(document: ProjectDocument) -> dict[str, Any]:
    wire: dict[str, Any] = {"kind": document.kind, "id": document.item_id,
                            "added_at": iso_ms(document.added_at_ms)}
    if document.kind == "file":
        wire["file"] = document.wire
    else:
        wire.update({key: document.wire.get(key, "") for key in ("title_en", "title_zh")})
    return wire


def project_json(project: Project, viewer: User) -> dict[str, Any]:
    return {
        "id": project.project_id,
        "name": {"en": project.name_en, "zh": project.name_zh},
        "city": project.city,
        "sectors": list(project.sectors),
        "status": project.status,
        "description": project.description,
        "figures": [{"label_en": f.label_en, "label_zh": f.label_zh, "value": f.value, "unit": f.unit}
                    for f in project.figures],
        "organisations": list(project.organisations),
        "members": [{"id": user_id, "name": name} for user_id, name in project.members],
        "documents": [document_json(d) for d in project.documents],
        "thread": project.topic_id,
        "created_by": project.created_by,
        "created_at": iso_ms(project.created_at_ms),
        "updated_at": iso_ms(project.updated_at_ms),
        "followers": project.followers,
        "following": project.following,
        "can_edit": may_edit(viewer, project),
        "page": f"/#/projects/{project.project_id}",
    }


def update_json(update: ProjectUpdate) -> dict[str, Any]:
    return {
        "id": update.update_id,
        "project": update.project_id,
        "author": {"id": update.author_id, "name": update.author_name},
        "happened_on": update.happened_on,
        "body": update.body,
        "html": update.html,
        "attachments": list(update.attachments),
        "message_id": update.message_id,
        "created_at": iso_ms(update.created_at_ms),
    }
