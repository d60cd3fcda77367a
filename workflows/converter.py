"""The one data converter used by the API, the worker and the tests: pydantic models on the wire."""

from __future__ import annotations

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

DATA_CONVERTER: DataConverter = pydantic_data_converter
