# The one HopLuc image: web (gunicorn), Celery worker and Celery beat run it with different commands.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOPLUC_VAR_DIR=/app/var \
    PORT=8000

WORKDIR /app
RUN useradd --create-home --uid 10001 --user-group hopluc

# Dependencies first, so a code change does not reinstall them. Runtime packages only.
COPY requirements.in requirements.lock ./
RUN pip install -r requirements.in -c requirements.lock

COPY . .
# Translations and hashed static files are built into the image. The production settings refuse to
# load without their variables; collectstatic connects to neither database nor broker, so throwaway
# values (and keys generated here and discarded) satisfy them.
RUN pybabel -q compile -d locale -D django \
 && DJANGO_SETTINGS_MODULE=config.settings.production \
    SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    SEARCH_HASH_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    FIELD_ENCRYPTION_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    ALLOWED_HOSTS=build.invalid SITE_URL=https://build.invalid \
    DATABASE_URL=postgres://build@build.invalid/build REDIS_URL=redis://build.invalid:6379/0 \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/var /app/audit-checkpoints \
 && chown -R hopluc:hopluc /app/var /app/audit-checkpoints

USER hopluc
EXPOSE 8000
# Compose and other orchestrators pass the Procfile's commands; this default is the web process.
CMD ["sh", "-c", "exec gunicorn --config config/gunicorn.py config.wsgi:application --bind 0.0.0.0:${PORT:-8000} --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
