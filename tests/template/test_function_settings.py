"""Each function's settings model (video_pipeline.settings, named in functions/<name>/app.py) and the environment
template.yaml gives that function agree both ways: every variable the template sets is read, and every variable
the model requires is set. (A model field with a default may be left unset.)"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from tests.template.test_template import _load_template

REPO = Path(__file__).resolve().parents[2]
# Read by libraries, not by our settings: Powertools, pydantic, and the TwelveLabs client's own TWELVELABS_* knobs.
LIBRARY_PREFIXES = ("POWERTOOLS_", "PYDANTIC_")


def _client_variables() -> set[str]:
    from twelvelabs_client.settings import ClientSettings

    return {f"TWELVELABS_{name.upper()}" for name in ClientSettings.model_fields} - {
        "TWELVELABS_BASE_URL",
        "TWELVELABS_API_KEY",
    }


def _functions() -> dict[str, tuple[str, dict[str, Any]]]:
    """Logical id -> (code directory name, the function's environment variables incl. Globals)."""
    template = _load_template()
    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        own = props.get("Environment", {}).get("Variables", {})
        found[logical_id] = (Path(props["CodeUri"]).name, {**globals_env, **own})
    return found


def _settings_model(code_dir: str) -> Any:
    import video_pipeline.settings as settings

    source = (REPO / "functions" / code_dir / "app.py").read_text()
    names = re.findall(r"LambdaFunction\((\w+)", source)
    assert len(names) == 1, f"functions/{code_dir}/app.py must create exactly one LambdaFunction, found {names}"
    imported = re.search(rf"^from (video_pipeline[\w.]*) import .*\b{names[0]}\b", source, re.M)  # e.g. .imports
    return getattr(importlib.import_module(imported.group(1)) if imported else settings, names[0])


FUNCTIONS = _functions()


def test_every_function_directory_is_deployed() -> None:
    assert sorted(code for code, _ in FUNCTIONS.values()) == sorted(
        p.parent.name for p in (REPO / "functions").glob("*/app.py")
    )


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_settings_model_matches_the_template_environment(logical_id: str) -> None:
    code_dir, environment = FUNCTIONS[logical_id]
    model = _settings_model(code_dir)
    given = {name for name in environment if not name.startswith(LIBRARY_PREFIXES)} - _client_variables()
    reads = set(model.env_names())
    assert given - reads == set(), f"{logical_id}: the template sets variables {model.__name__} never reads"
    assert model.required_env_names() - given == set(), f"{logical_id}: {model.__name__} requires unset variables"


def test_each_function_has_its_own_settings_model() -> None:
    models = [_settings_model(code).__name__ for code, _ in FUNCTIONS.values()]
    assert len(models) == len(set(models)), models


def test_the_embed_poll_parameters_reach_every_function_that_reads_them() -> None:
    """EmbedPollFirstSeconds once reached only check_embeddings, while start_embeddings returns the first wait."""
    readers = {
        lid for lid, (code, _) in FUNCTIONS.items() if "EMBED_POLL_FIRST_SECONDS" in _settings_model(code).env_names()
    }
    assert readers == {"StartEmbeddingsFunction", "CheckEmbeddingsFunction"}
    for lid in readers:
        environment = FUNCTIONS[lid][1]
        assert environment["EMBED_POLL_FIRST_SECONDS"] == {"Ref": "EmbedPollFirstSeconds"}, lid
        assert environment["EMBED_POLL_MAX_ATTEMPTS"] == {"Ref": "EmbedPollMaxAttempts"}, lid
