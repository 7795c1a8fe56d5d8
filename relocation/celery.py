"""Celery application.

Tasks subclass ``DjangoTask`` so that ``delay_on_commit`` is available: a task queued inside a
transaction must never run before the rows it reads are committed.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings.local")

app = Celery("relocation", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
