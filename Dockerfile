# The portal image: web (gunicorn), worker and beat all run from it (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=relocation.settings.production \
    VAR_DIR=/app/var

WORKDIR /app
# WeasyPrint (PDF reports) needs Pango; Noto CJK is the fallback for names outside the vendored GB 2312 font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system portal && useradd --system --gid portal --home-dir /app --shell /usr/sbin/nologin portal
COPY requirements.txt .
RUN pip install -r requirements.txt
# The code stays root-owned (read-only for the app); only var/ (media, static) belongs to the app user.
COPY . .
# collectstatic needs the production settings' secrets to import; build-time placeholders only.
RUN SECRET_KEY=build FIELD_ENCRYPTION_KEY=build BLIND_INDEX_KEY=build python manage.py collectstatic --noinput -v0 \
    && mkdir -p /app/var/media && chown -R portal:portal /app/var
USER portal
EXPOSE 8000
CMD ["gunicorn", "relocation.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
