# The Watchlist image: API and (once it exists) projector, installed from the lock.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY services ./services
COPY schemas ./schemas
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && useradd --system --home /data watchlist && mkdir -p /data && chown watchlist /data
USER watchlist
ENV WATCHLIST_DATA_DIR=/data
EXPOSE 8000
CMD ["watchlist", "serve", "--host", "0.0.0.0", "--port", "8000"]
