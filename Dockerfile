# RespKv server image: build with the SDK, run on the ASP.NET Core runtime as a non-root user.
#   docker build -t respkv .
#   docker run --rm -p 6379:6379 -v respkv-data:/data respkv --requirepass 'a-long-secret'

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY src/ src/
# ReadyToRun: RespKv's own code is compiled ahead of time for the image's architecture, so the server starts (and
# replays its AOF) on optimised code instead of the JIT's first tier; see README, Persistence. TARGETARCH is set by
# BuildKit (amd64, arm64); the SDK accepts those names.
ARG TARGETARCH=amd64
RUN dotnet restore src/RespKv.Server/RespKv.Server.csproj -a $TARGETARCH -p:PublishReadyToRun=true
RUN dotnet publish src/RespKv.Server/RespKv.Server.csproj -c Release -a $TARGETARCH --self-contained false \
    -p:PublishReadyToRun=true -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# The data directory belongs to the image's non-root `app` user (UID $APP_UID = 1654);
# it is created and chowned before VOLUME so the volume starts with that owner.
RUN mkdir -p /data && chown "$APP_UID:$APP_UID" /data
VOLUME /data
WORKDIR /data
USER $APP_UID
EXPOSE 6379
# A container must listen on all interfaces to be reachable through a published port, so bind 0.0.0.0
# (the server's own default, 127.0.0.1, would accept only connections from inside the container).
# Listening on every interface means protected mode (on by default) refuses every client coming through the
# published port with -DENIED until the container is started with `--requirepass <password>` (recommended)
# or an explicit `--protected-mode no` (trusted networks only); see README, Docker.
# The append-only file (appendonly yes by default) lives in /data/appendonly.aof: mount a volume there.
# Arguments given to `docker run` are appended as further options, e.g. `--port 7000 --requirepass secret`.
# A 32 MB gen0 allocation budget (the GC reads it only from the environment): fewer collections of the values
# every SET keeps alive; see README, Performance.
ENV DOTNET_GCgen0size=0x2000000
ENTRYPOINT ["dotnet", "/app/respkv-server.dll", "--bind", "0.0.0.0", "--dir", "/data"]
