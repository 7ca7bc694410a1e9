# Prometheus for the Docker lab's `prometheus` service: Debian 12's own
# package (the one the tests run), with the lab's scrape config and
# mtlsprobe's alert rules. Build context: the repository root.
#   docker build -f docker/prometheus.Dockerfile -t mtlsprobe-prometheus:lab .
FROM debian:bookworm
RUN apt-get update \
    && apt-get install --yes --no-install-recommends prometheus \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY docker/prometheus.yml /etc/prometheus/prometheus.yml
COPY monitoring/alerts.yml /etc/prometheus/alerts.yml
# Owned by the user Prometheus runs as: the lab's service rewrites it at
# start with the Lync pool FQDN it was given.
COPY --chown=prometheus:prometheus docker/prometheus-targets.yml /etc/prometheus/targets/lync.yml
USER prometheus
ENTRYPOINT ["prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", \
     "--storage.tsdb.path=/var/lib/prometheus/metrics2", \
     "--web.listen-address=0.0.0.0:9090"]
