# The budscaler CLI in an image, for sweeps sharded as Kubernetes Jobs
# (scenarios/sweep-job.yaml). Build from the repository root:
#   docker build -t budscaler:latest .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p budscaler

FROM debian:bookworm-slim
COPY --from=build /src/target/release/budscaler /usr/local/bin/budscaler
COPY scenarios /scenarios
WORKDIR /work
ENTRYPOINT ["budscaler"]
