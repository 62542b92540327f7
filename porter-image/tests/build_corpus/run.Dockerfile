ARG BASE=busybox
FROM $BASE
RUN mkdir -p /opt/tool/old && echo old > /opt/tool/old/file && echo a > /opt/tool/a \
 && echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && mkdir -p /home/app
RUN rm -rf /opt/tool && mkdir -p /opt/tool && echo new > /opt/tool/new && rm /bin/vi \
 && chown 1000:1000 /home/app && chmod 0700 /home/app && ln -s /opt/tool/new /usr/bin/new
WORKDIR /home/app
RUN echo "$(pwd)" > where
