"""A typed Python client for a labelloop server's HTTP API, sync (`Client`) and async
(`AsyncClient`), with the CLI's nouns: projects, items, imports, exports, jobs, tasks, quality
reports and loop rounds (docs/client.md). It needs httpx and pydantic, nothing of the server."""

from labelloop.client.aio import AsyncClient
from labelloop.client.errors import ClientError
from labelloop.client.models import Answer, Item, Job, Project, ProjectStatus, Round, Task
from labelloop.client.retry import Backoff
from labelloop.client.sync import Client

__all__ = ["Answer", "AsyncClient", "Backoff", "Client", "ClientError", "Item", "Job", "Project",
           "ProjectStatus", "Round", "Task"]
