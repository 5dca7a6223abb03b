# The 3-task push of the benchmark for pyinfra: template, command, and a handler-like step that runs
# only when the template changed.
from pyinfra import host
from pyinfra.operations import files, server

config = files.template(
    name="render config",
    src="bench/push/templates/app.pyinfra.conf.j2",
    dest=f"/tmp/drover-bench/pyinfra/{host.name}.conf",
    mode="644",
)
server.shell(name="kernel", commands=["uname -r"])
server.shell(name="reload", commands=["true"], _if=config.did_change)
