"""Finding the template text in a params model: the fields `template_field` marked.

A marked field holds a template as a string, or templates as the string values of a mapping or
list (at any depth). Nested params models (a list of attachments, a discriminated union of them)
are walked too, so a marked field of an attachment is found as `attachments[0].title`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from domain.templating import TEMPLATE_MARK

ModelT = TypeVar("ModelT", bound=BaseModel)


def is_template_field(field: FieldInfo) -> bool:
    """Whether `field` was declared with `domain.templating.template_field`."""
    extra = field.json_schema_extra
    return isinstance(extra, dict) and TEMPLATE_MARK in extra


def template_fields(model: type[BaseModel]) -> list[str]:
    """The names of `model`'s own marked fields."""
    return [name for name, field in model.model_fields.items() if is_template_field(field)]


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _models(value: Any, path: str) -> Iterator[tuple[str, BaseModel]]:
    if isinstance(value, BaseModel):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _models(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _models(item, f"{path}[{index}]")


def template_strings(params: BaseModel, prefix: str = "params") -> Iterator[tuple[str, str]]:
    """Every template string of `params` with its path (`params.text`, `params.attachments[0].title`)."""
    for name, field in type(params).model_fields.items():
        value = getattr(params, name)
        path = f"{prefix}.{name}"
        if is_template_field(field):
            yield from _strings(value, path)
        else:
            for inner_path, inner in _models(value, path):
                yield from template_strings(inner, inner_path)


def raw_template_strings(
    model: type[BaseModel], raw: Any, prefix: str = "params"
) -> Iterator[tuple[str, str]]:
    """The template strings of the marked top-level fields of `raw`, params that do not validate
    as `model` (nested models cannot be told apart without validating)."""
    if not isinstance(raw, dict):
        return
    for name in template_fields(model):
        if name in raw:
            yield from _strings(raw[name], f"{prefix}.{name}")


def _mapped(value: Any, render: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return render(value)
    if isinstance(value, dict):
        return {key: _mapped(item, render) for key, item in value.items()}
    if isinstance(value, list):
        return [_mapped(item, render) for item in value]
    if isinstance(value, tuple):
        return tuple(_mapped(item, render) for item in value)
    return value


def _models_mapped(value: Any, render: Callable[[str], str]) -> Any:
    if isinstance(value, BaseModel):
        return render_templates(value, render)
    if isinstance(value, dict):
        return {key: _models_mapped(item, render) for key, item in value.items()}
    if isinstance(value, list):
        return [_models_mapped(item, render) for item in value]
    return value


def render_templates(params: ModelT, render: Callable[[str], str]) -> ModelT:
    """A copy of `params` with every template string replaced by `render(it)`."""
    update: dict[str, Any] = {}
    for name, field in type(params).model_fields.items():
        value = getattr(params, name)
        if is_template_field(field):
            update[name] = _mapped(value, render)
        elif isinstance(value, BaseModel | dict | list):
            update[name] = _models_mapped(value, render)
    return params.model_copy(update=update)
