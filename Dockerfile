# Switchboard: one image for every service (docker-compose.yml picks the command).
# Build stage: the same Debian packages and CMake build as ./setup.sh; runtime stage: only the
# shared libraries, the binaries and the dashboard, run as an unprivileged user.

# The dashboard: Vite needs Node.js 20 (Debian 12 has 18), so it builds in Node's own image.
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM debian:12-slim AS build
ENV DEBIAN_FRONTEND=noninteractive
COPY .ci/packages.txt /tmp/packages.txt
RUN apt-get update \
 && grep -v '^#' /tmp/packages.txt | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DSB_TESTS=OFF \
 && cmake --build /build -j"$(nproc)" \
 && cmake --install /build --prefix /opt/switchboard

FROM debian:12-slim
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libarchive13 libbson-1.0-0 libcjson1 libcurl4 libduktape207 libjwt0 \
      libmongoc-1.0-0 libnova-0.16-0 libpaho-mqtt1.3 libsqlite3-0 libssl3 libwebsockets17 \
      libyaml-0-2 mosquitto \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/switchboard --create-home --shell /usr/sbin/nologin \
      switchboard \
 && mkdir -p /etc/switchboard && chown switchboard /etc/switchboard
COPY --from=build /opt/switchboard /opt/switchboard
COPY --from=web /web/dist /opt/switchboard/share/switchboard/web
COPY deploy/switchboard.yaml /etc/switchboard/switchboard.yaml
ENV PATH=/opt/switchboard/bin:$PATH \
    SWITCHBOARD_CONFIG=/etc/switchboard/switchboard.yaml \
    SWITCHBOARD_DATA_DIR=/var/lib/switchboard \
    SWITCHBOARD_API_WEB_ROOT=/opt/switchboard/share/switchboard/web
USER switchboard
WORKDIR /var/lib/switchboard
VOLUME /var/lib/switchboard
# SWITCHBOARD_SERVICE names the service of the container; the check asks the bus whether this
# container's instance of it is online (`switchboard status`, docs/operations.md).
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD switchboard status "${SWITCHBOARD_SERVICE:-api}" || exit 1
CMD ["switchboard", "run"]
