# The sample legacy app (legacy_app.py) for packaging/docker-compose.example.yaml. The build
# context is this folder, so nothing but the app reaches the builder. Debian 12's python3
# on the bridge image's base (one base image to fetch); openssl does the AES (legacy_app.py).
FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 openssl \
 && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10002 app
COPY legacy_app.py /app/legacy_app.py
USER app
# Secrets from Docker secrets; all the container's addresses, so the bridge reaches it as
# legacy-app:8080 over the compose network.
ENTRYPOINT ["/bin/sh", "-c", "DINGTALK_CLIENT_SECRET=$(cat /run/secrets/dingtalk_client_secret) LEGACY_TOKEN=$(cat /run/secrets/legacy_token) LEGACY_AES_KEY=$(cat /run/secrets/legacy_aes_key) LEGACY_API_SECRET=$(cat /run/secrets/legacy_api_secret) exec python3 /app/legacy_app.py --host 0.0.0.0 --port 8080"]
