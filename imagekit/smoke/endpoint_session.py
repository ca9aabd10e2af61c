"""`imagekit endpoint`: the variants behind the local endpoint, a live view, and optionally a guarded rollout.

Everything the command line can get wrong is refused in `from_options`, before the engine is asked; `run` starts
the variants, says how to reach the endpoint with boto3, and returns the JSON report (metrics, rollout events).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from imagekit import contract
from imagekit.errors import ImagekitError
from imagekit.smoke import endpoint_api, live
from imagekit.smoke import rollout as rollouts
from imagekit.smoke.variants import WEIGHTS_ROUTE, Variant, check_variants, parse_variant, running_endpoint


@dataclass
class EndpointSession:
    variants: list[Variant]
    endpoint_name: str
    policy: rollouts.Policy | None = None
    target: str | None = None
    alarms: tuple[rollouts.Alarm, ...] = ()

    @classmethod
    def from_options(cls, variants: list[str], *, endpoint_name: str = endpoint_api.DEFAULT_ENDPOINT_NAME,
                     rollout: str | None = None, rollout_to: str | None = None,
                     rollback_if: list[str] | tuple[str, ...] = ()) -> "EndpointSession":
        parsed = [parse_variant(v) for v in variants]
        check_variants(parsed)
        if not endpoint_api.NAME.fullmatch(endpoint_name):
            raise ImagekitError(f"--endpoint-name {endpoint_name!r} is not an EndpointName: letters, digits and "
                                f"hyphens, starting with a letter or digit, at most {contract.MAX_NAME_CHARS}.",
                                "For example: --endpoint-name my-model-prod")
        if rollout is None:
            if rollout_to or rollback_if:
                raise ImagekitError("--rollout-to and --rollback-if need --rollout.",
                                    f"For example: {rollouts.POLICY_EXAMPLE}.")
            return cls(parsed, endpoint_name)
        policy = rollouts.parse_policy(rollout)
        alarms = tuple(rollouts.parse_alarm(text) for text in rollback_if)
        target = rollout_to or parsed[-1].name
        rollouts.check_rollout(parsed, target)
        return cls(parsed, endpoint_name, policy, target, alarms)

    def run(self, *, model: str | Path | None = None, env: dict[str, str] | None = None,
            startup_timeout: float = contract.STARTUP_HEALTH_TIMEOUT_S, port: int = 0, quiet: bool = False,
            say: Callable[[str], None] = print) -> dict:
        """Serve until Ctrl-C/SIGTERM, or until the rollout decides; the report."""
        result: dict = {"endpoint": self.endpoint_name}
        plan = None
        with running_endpoint(self.variants, model=model, env=env, startup_timeout=startup_timeout, port=port,
                              endpoint_name=self.endpoint_name) as router:
            url = f"http://127.0.0.1:{router.server_address[1]}"
            result["url"] = url
            for text in self._greeting(url):
                say(text)
            try:
                with live.live_view(router.metrics, quiet):
                    if self.policy is not None:
                        plan = rollouts.Rollout(router, self.target, self.policy, list(self.alarms),
                                                on_event=lambda event: say(rollouts.describe(event)))
                        plan.run()
                    else:
                        while True:
                            time.sleep(1)
            except KeyboardInterrupt:
                say("stopping")
            finally:
                result["variants"] = router.metrics()
                if plan is not None:
                    if plan.outcome == "running":
                        plan.outcome = "stopped"
                    result["rollout"] = plan.report()
        if plan is not None:
            say(f"rollout {plan.outcome}" + (f": alarm {plan.fired} fired" if plan.fired else ""))
        say(live.line(result["variants"]))
        return result

    def _greeting(self, url: str) -> list[str]:
        described = ", ".join(f"{v.name}={v.image} (weight {v.weight:g})" for v in self.variants)
        return [f"endpoint ready at {url}{contract.RUNTIME_INVOKE_ROUTE.format(name=self.endpoint_name)} "
                f"with variants {described}",
                f"  boto3: boto3.client('sagemaker-runtime' | 'sagemaker' | 'cloudwatch', endpoint_url='{url}', "
                "region_name=..., aws_access_key_id='x', aws_secret_access_key='x') — any credentials work",
                f"  EndpointName={self.endpoint_name}; plain HTTP: POST {url}{contract.INVOCATIONS_ROUTE}, "
                f"POST {url}{WEIGHTS_ROUTE}",
                "  Ctrl-C or SIGTERM stops it and removes everything"]
