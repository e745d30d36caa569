# Puhui Hub service image. Dependencies are installed from the pinned constraints.txt.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PUHUI_DATA_DIR=/var/lib/puhui \
    PUHUI_HOST=0.0.0.0 \
    PUHUI_PORT=8000

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY hub ./hub
COPY schemas ./schemas
COPY standards ./standards
COPY mutual_recognition ./mutual_recognition
COPY adapters ./adapters
COPY transparency ./transparency
RUN pip install --no-cache-dir -c constraints.txt . \
    && useradd --system --home-dir /var/lib/puhui --create-home puhui

USER puhui
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# Migrate, then serve. Set PUHUI_DEMO_SEED=1 to seed the demo federation into an empty database.
CMD ["sh", "-c", "puhui db upgrade && if [ \"${PUHUI_DEMO_SEED:-0}\" = 1 ]; then puhui demo seed; fi && exec puhui serve"]
