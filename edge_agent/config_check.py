"""What `edge-agent config check` looks at beyond the schema: the files a config names, and demo values left in a
config meant for a real site.

A file problem is an error (the check exits 78 naming the path); a demo value is a warning, because a lab may
want it on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edge_agent.config import AgentConfig
from edge_agent.file_checks import unreadable_file

TFLITE_IDENTIFIER = b"TFL3"  # the FlatBuffer file identifier, bytes 4-8 of every .tflite file


def named_file_problems(config: AgentConfig, env: Mapping[str, str] | None = None) -> list[str]:
    """One line per file the config names that is missing, unreadable or not the kind its key needs."""
    from edge_agent.tls import tls_file_problems

    return (tls_file_problems(config.mqtt) + model_file_problems(config, env) + _camera_problems(config)
            + _log_file_problems(config))


def _log_file_problems(config: AgentConfig) -> list[str]:
    from edge_agent.logs import log_file_problem

    path = config.agent.log_file
    problem = log_file_problem(path) if path is not None else None
    return [f"agent.log_file = '{path}': {problem}"] if problem else []


def model_file_problems(config: AgentConfig, env: Mapping[str, str] | None = None) -> list[str]:
    """The enabled models: each a TFLite file, the project's own with their metadata JSON beside them."""
    from edge_agent.detectors.ml_catalog import model_path, models_directory  # the ML stack: only when checking
    from edge_agent.ml.metadata import ModelLoadError, load_metadata, metadata_path_for

    models = config.models
    directory = models_directory(models, env)
    if models.directory is not None and not directory.is_dir():
        return [f"models.directory = '{directory}': not a directory"]
    shipped = [("models.window.file", models.window)]
    if config.camera.enabled:
        shipped.append(("models.vision.file", models.vision))
    problems = []
    for key, model in shipped:
        if not model.enabled:
            continue
        path = model_path(directory, model.file)
        problem = _tflite_problem(key, model.file, path)
        if problem is None:
            try:
                load_metadata(metadata_path_for(path))
            except ModelLoadError as exc:
                problem = f"{key} = '{model.file}': {exc.reason}"
        problems += [problem] if problem else []
    if config.camera.enabled:
        for index, custom in enumerate(models.custom):
            path = model_path(directory, str(custom.path))
            where = f"models.custom.{index}.path = '{custom.path}'"
            problem = _tflite_problem(f"models.custom.{index}.path", str(custom.path), path)
            problem = problem or _model_trial_problem(where, path, models.runtime)
            problems += [problem] if problem else []
    return problems


def _model_trial_problem(where: str, path: Path, runtime_preference: str) -> str | None:
    """What opening an operator's model in a test process shows: a corrupt file that would crash an interpreter
    (the agent refuses it at load; the check says so first). No runtime here: the agent's load names that."""
    import hashlib

    from edge_agent.ml.metadata import ModelLoadError
    from edge_agent.ml.model_trial import crash_in_trial
    from edge_agent.ml.runtime import RuntimeUnavailable, read_model_file, select_runtime

    try:
        runtime = select_runtime(runtime_preference)
        content = read_model_file(path, path.stem)
    except (RuntimeUnavailable, ModelLoadError) as exc:
        return f"{where}: {exc.reason}" if isinstance(exc, ModelLoadError) else None
    problem = crash_in_trial(path, hashlib.sha256(content).hexdigest(), runtime.name, runtime.version)
    return f"{where}: {problem}" if problem else None


def _camera_problems(config: AgentConfig) -> list[str]:
    camera = config.camera
    if not camera.enabled or camera.path is None:
        return []
    if not camera.path.exists():
        return [f"camera.path = '{camera.path}': not found"]
    if camera.path.is_dir():  # a directory of frames
        return []
    problem, _ = unreadable_file(f"camera.path = '{camera.path}'", camera.path)
    return [problem] if problem else []


def _tflite_problem(key: str, value: str, path: Path) -> str | None:
    where = f"{key} = '{value}'" + (f" ({path})" if str(path) != value else "")
    problem, head = unreadable_file(where, path, head_bytes=8)
    if problem is None and head[4:8] != TFLITE_IDENTIFIER:
        return f"{where}: not a TFLite model (no {TFLITE_IDENTIFIER.decode()} identifier)"
    return problem


def demo_value_warnings(config: AgentConfig, raw: Mapping[str, Any]) -> list[str]:
    """Values of the demo file in a config whose premises are not simulated (`raw`: the file as parsed)."""
    if config.premises.mode == "simulated":
        return []
    warnings = []
    for key, value in (("agent.device_id", config.agent.device_id), ("agent.site_id", config.agent.site_id)):
        if "demo" in value.lower():
            warnings.append(f"{key} = '{value}' looks like the demo's; give this gateway its own")
    simulation = raw.get("simulation")
    faults = simulation.get("faults") if isinstance(simulation, dict) else None
    if faults:
        warnings.append(f"[simulation] scripts {len(faults)} faults, the demo's: premises.mode = "
                        f"'{config.premises.mode}' ignores them, and a production config has no [simulation] section")
    remediation = config.remediation
    if remediation.default_mode == "auto":
        warnings.append("remediation.default_mode = 'auto': the agent acts on every issue type by itself, as in "
                        "the demo; the production default is 'dry-run' (set mode per type to allow actions)")
    return warnings
