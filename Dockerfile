FROM python:3.11-slim-bookworm

# WeasyPrint needs Pango; the rest of the stack is pure Python wheels.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && SECRET_KEY=build-only python manage.py compile_translations

RUN useradd --system --home /app cashback && chown -R cashback /app
USER cashback
EXPOSE 8000
# Workers, threads and the access log: gunicorn.conf.py.
CMD ["gunicorn", "cashback.wsgi:application"]
