"""Embed v2 (/embed-v2, /embed-v2/tasks) of the current surface; every error here is the wrapped shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from werkzeug.wrappers import Response

from twelvelabs_emulator import analyze, embed_v2
from twelvelabs_emulator.api_analyze_tasks import wrapped
from twelvelabs_emulator.clock import utcnow
from twelvelabs_emulator.errors import ApiError
from twelvelabs_emulator.httpkit import EmulatorRequest, json_response, paginate, query_choice, query_time
from twelvelabs_emulator.services import Services

LIST_DEFAULT_WINDOW = timedelta(days=7)


@wrapped
def create_embedding(s: Services, request: EmulatorRequest) -> Response:
    data = analyze.read_json_object(request)
    body: embed_v2.EmbedIn = analyze.validate(embed_v2.EmbedIn, data)
    embed_v2.check_model(body.model_name, data)
    return json_response(embed_v2.sync_embed(s, body))


@wrapped
def create_task(s: Services, request: EmulatorRequest) -> Response:
    data = analyze.read_json_object(request)
    body: embed_v2.EmbedTaskIn = analyze.validate(embed_v2.EmbedTaskIn, data)
    embed_v2.check_model(body.model_name, data)
    task = s.embed_v2.create(s, body)
    return json_response(
        {"_id": task.id, "status": "processing", "data": None},
        202,
        headers={"Location": f"/v1.3/embed-v2/tasks/{task.id}"},
    )


@wrapped
def list_tasks(s: Services, request: EmulatorRequest) -> Response:
    args = request.args
    started = query_time(args, "started_at") or utcnow() - LIST_DEFAULT_WINDOW
    ended = query_time(args, "ended_at")
    status = args.get("status") or None
    if status is not None:
        query_choice(args, "status", "", ("processing", "ready", "failed"))
    tasks = [
        t
        for t in s.embed_v2.live()
        if t.created_at >= started
        and (ended is None or t.created_at <= ended)
        and (status is None or t.status == status)
    ]
    tasks.sort(key=lambda t: (t.created_at, t.seq), reverse=True)
    page, info = paginate(tasks, args)
    return json_response({"data": [embed_v2.list_item_json(t) for t in page], "page_info": info})


@wrapped
def retrieve_task(s: Services, request: EmulatorRequest, task_id: str) -> Response:
    task = s.embed_v2.get(task_id)
    if task is None:
        raise ApiError(
            404,
            "resource_not_exist",
            f"Resource with id {task_id} does not exist in embed-v2 tasks (results are kept 7 days).",
        )
    return json_response(embed_v2.task_json(task))


# (path under /v1.3, methods, handler(services, request, **path_args)); served in the current surface only.
ROUTES: list[tuple[str, list[str], Callable[..., Response]]] = [
    ("/embed-v2", ["POST"], create_embedding),
    ("/embed-v2/tasks", ["GET"], list_tasks),
    ("/embed-v2/tasks", ["POST"], create_task),
    ("/embed-v2/tasks/<task_id>", ["GET"], retrieve_task),
]
