# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Docker connection options shared by every module. Keep in sync with
    # plugins/module_utils/_module.py docker_argument_spec().
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - The Docker daemon to talk to, as a URL such as C(unix:///var/run/docker.sock), C(tcp://host:2376)
        or C(ssh://user@host:22).
      - If not given, the environment variable E(DOCKER_HOST) is used; otherwise the local unix socket.
      - The module runs on the target host, so C(unix://) means the target's own daemon.
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  tls:
    description:
      - Use TLS to talk to the daemon, without verifying its certificate unless O(validate_certs=true).
      - If not given, the environment variable E(DOCKER_TLS) is used.
    type: bool
    default: false
  validate_certs:
    description:
      - Use TLS and verify the daemon's certificate against O(ca_path).
      - If not given, the environment variable E(DOCKER_TLS_VERIFY) is used.
    type: bool
    default: false
    aliases: [tls_verify]
  ca_path:
    description:
      - A CA certificate file on the host where the module runs, used to verify the daemon's certificate.
    type: path
    aliases: [ca_cert, tls_ca_cert, cacert_path]
  client_cert:
    description:
      - The client's TLS certificate file, for daemons that authenticate clients. Needs O(client_key).
    type: path
    aliases: [tls_client_cert, cert_path]
  client_key:
    description:
      - The client's TLS key file. Needs O(client_cert).
    type: path
    aliases: [tls_client_key, key_path]
  tls_hostname:
    description:
      - The host name expected in the daemon's certificate, when it differs from the host in O(docker_host).
      - If not given, the environment variable E(DOCKER_TLS_HOSTNAME) is used.
    type: str
  api_version:
    description:
      - The Docker Engine API version to speak; V(auto) negotiates the daemon's.
      - If not given, the environment variable E(DOCKER_API_VERSION) is used.
    type: str
    default: auto
    aliases: [docker_api_version]
  timeout:
    description:
      - Seconds to wait for each Docker API call (not for the job as a whole).
      - If not given, the environment variable E(DOCKER_TIMEOUT) is used.
    type: int
    default: 60
requirements:
  - Docker SDK for Python (C(docker)) 7.1.0 or newer, on the host where the module runs (the Docker host), with
    C(requests) 2.32 or newer (the tested combination). Older SDKs are refused with a message naming the installed C(docker) and
    C(requests) versions (SDK 7.0 and older cannot talk to the Engine with C(requests) 2.32 or newer).
notes:
  - The Docker SDK is needed on the target that runs the module, not on the controller.
"""

    # Standard attributes, and membership in the action group; modules give support and details.
    ATTRIBUTES = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
  action_group:
    description: Use C(group/bosun.compose.docker) in C(module_defaults) to set the Docker connection options once.
    support: full
    membership:
      - bosun.compose.docker
"""
