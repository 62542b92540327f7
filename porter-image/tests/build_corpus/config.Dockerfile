ARG BASE=busybox
FROM $BASE
ARG VERSION=1.0
ENV APP_HOME=/srv/app VERSION=$VERSION
LABEL org.opencontainers.image.version=$VERSION maintainer="someone"
WORKDIR $APP_HOME
COPY files/ ./
COPY files/hello.txt /etc/motd
USER 1000:1000
WORKDIR /var/lib/appdata/cache
EXPOSE 8080 53/udp
VOLUME ["/data"]
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /etc/motd"]
