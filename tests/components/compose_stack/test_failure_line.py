"""The last line of a failed `up` names the resource and the reason (issue 34 item 4).

The messages are what the Automation API raised on the real CLI (trimmed): the reason sits
in the diagnostics, and the message ends with an empty `stderr:`.
"""

from __future__ import annotations

from webhook.runners.failure_line import failure_line

PROVIDER = """
 code: 255
 stdout: Updating (t1):
 +  docker:index:Container p-first-1 created (0.51s)
 +  docker:index:Container p-late-1 creating (0s) error:   sdk-v2/provider2.go:571: sdk.helper_schema: Unable to create container: "specify health-check start interval" requires API version 1.44, but the Docker daemon API version is 1.41: provider=docker@5.2.0
 +  docker:index:Container p-late-1 creating (0s) error: 1 error occurred:
 +  docker:index:Container p-late-1 **creating failed** error: 1 error occurred:
 +  pulumi:pulumi:Stack slipway-t1 creating (2s) error: update failed
 +  pulumi:pulumi:Stack slipway-t1 **creating failed (2s)** 1 error

 stderr:
"""  # noqa: E501

PROGRAM = """
 code: 255
 stdout: Updating (t2):
    Traceback (most recent call last):
      File "stack.py", line 211, in wait_for_rpcs
        await task
    components.compose_stack.lifecycle.JobFailedError: service `job`: container p-job-1 exited with code 1
    error: an unhandled error occurred: python inline source runtime error: service `job`: container p-job-1 exited with code 1
    Traceback (most recent call last):
      File "_server.py", line 95, in run
Resources:
    + 7 created
    1 errored

 stderr:
"""  # noqa: E501


def test_a_resource_failure_names_the_resource_and_the_engines_reason() -> None:
    assert failure_line(PROVIDER) == (
        'docker:index:Container p-late-1: Unable to create container: "specify health-check '
        'start interval" requires API version 1.44, but the Docker daemon API version is 1.41'
    )


def test_a_program_error_is_its_own_message() -> None:
    assert failure_line(PROGRAM) == "service `job`: container p-job-1 exited with code 1"


def test_the_empty_stderr_field_is_never_the_line() -> None:
    assert failure_line(" code: 1\n stdout: something went wrong\n stderr: \n") == (
        "stdout: something went wrong"
    )
    assert failure_line("") == ""


def test_a_refusal_keeps_its_listed_reasons_on_the_line() -> None:
    message = (
        " stdout: Updating (t3):\n"
        "    error: an unhandled error occurred: python inline source runtime error: 1 Compose "
        "setting(s) cannot be deployed (see docs/compose-support.md):\n"
        "      - service `late`: `volume.nocopy` needs Docker 26.0 or later\n"
        "Resources:\n"
        " stderr:\n"
    )
    assert failure_line(message) == (
        "1 Compose setting(s) cannot be deployed (see docs/compose-support.md): "
        "service `late`: `volume.nocopy` needs Docker 26.0 or later"
    )
