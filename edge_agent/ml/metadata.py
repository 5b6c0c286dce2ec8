"""The metadata JSON that ships beside each of the project's .tflite models: what the model expects, what it
answers, how it was trained and how well it did on held-out data. Read and validated here, nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from edge_agent.schema import Field, Record, ValidationError, field_validator
from edge_agent.untrusted_files import read_bounded
from edge_agent.untrusted_json import UntrustedJsonError, loads_untrusted

METADATA_SCHEMA_VERSION = 1
MAX_METADATA_BYTES = 1024 * 1024  # the shipped files are under 8 KiB


class ModelLoadError(Exception):
    """A model that cannot be used: missing, corrupt, or not the model its metadata describes."""

    def __init__(self, model: str, reason: str):
        self.model = model
        self.reason = reason
        super().__init__(f"model {model}: {reason}")


class _Strict(Record):
    """Frozen and refuses unknown keys (edge_agent.schema)."""


class TensorSpec(_Strict):
    shape: list[int] = Field(min_length=1)
    dtype: Literal["int8", "uint8", "float32"]
    scale: float = Field(ge=0, description="real = (quantised - zero_point) * scale; 0 for float tensors")
    zero_point: int


class ModelMetadata(_Strict):
    schema_version: Literal[1] = METADATA_SCHEMA_VERSION
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    task: Literal["classification"]
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    labels: list[str] = Field(min_length=2)
    input: TensorSpec
    output: TensorSpec
    input_description: dict[str, Any] = Field(default_factory=dict)
    min_tflite_version: str | None = Field(None, description="from the model's own min_runtime_version entry")
    training: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _unique(cls, labels: list[str]) -> list[str]:
        if len(set(labels)) != len(labels):
            raise ValueError("labels must be unique")
        return labels


def metadata_path_for(model_path: Path) -> Path:
    """`models/x.tflite` → `models/x.json`."""
    return model_path.with_suffix(".json")


def load_metadata(path: Path) -> ModelMetadata:
    name = path.stem
    try:
        raw = loads_untrusted(read_bounded(path, MAX_METADATA_BYTES), MAX_METADATA_BYTES)
    except FileNotFoundError:
        raise ModelLoadError(name, f"metadata file {path} not found") from None
    except (OSError, UntrustedJsonError) as exc:
        raise ModelLoadError(name, f"metadata file {path} is not readable JSON: {exc}") from None
    try:
        return ModelMetadata.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<top>'}: {e['msg']}" for e in exc.errors())
        raise ModelLoadError(name, f"metadata file {path} is invalid: {problems}") from None
