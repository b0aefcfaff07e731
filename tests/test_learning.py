"""The estimators, AdaBoot and the PPO integration, on synthetic tensors (no env)."""

from __future__ import annotations

import math
import os
import socket
import statistics
from dataclasses import asdict
from types import SimpleNamespace

os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ.setdefault("MUJOCO_GL", "disable")

import pytest
import torch
import torch.multiprocessing as mp
from tensordict import TensorDict

from dreamwaq.learning.adaboot import AdaBoot, boot_probability
from dreamwaq.learning.config import POLICY_INPUT, runner_cfg
from dreamwaq.learning.estimators import (
  BetaSchedule,
  CENet,
  EstNet,
  NormalizedEstimator,
  kl_divergence,
  masked_mse,
  normalize_frames,
  reparameterize,
)
from dreamwaq.learning.ppo import DreamWaqPPO, slim
from dreamwaq.learning.samples import VELOCITY, estimator_samples
from dreamwaq.tasks import layout
from dreamwaq.tasks.registry import TASKS, get_task

P, H, V, Z = layout.PROPRIO_DIM, layout.HISTORY_DIM, layout.VEL_DIM, layout.LATENT_DIM
NUM_ENVS, STEPS = 16, 6


# Helpers: an algorithm as rsl_rl's runner would build it, fed with synthetic steps.


def rsl_train_cfg(task: str, steps: int = STEPS) -> dict:
  """The task's runner config as a dict, with mjlab's runner clean-up applied."""
  cfg = asdict(runner_cfg(get_task(task)))
  cfg["num_steps_per_env"] = steps
  for key in ("actor", "critic"):
    for opt in ("cnn_cfg", "rnn_type", "rnn_hidden_dim", "rnn_num_layers"):
      cfg[key].pop(opt)
    if cfg[key]["distribution_cfg"] is None:
      cfg[key].pop("distribution_cfg")
  cfg["multi_gpu"] = None
  return cfg


def synthetic_obs(
  task: str, num_envs: int = NUM_ENVS, velocity: float | None = None
) -> TensorDict:
  """Observation groups shaped like the task's env; ``actor`` is the newest history frame."""
  dims = get_task(task).group_dims
  obs = {name: torch.randn(num_envs, dim) for name, dim in dims.items()}
  if "history" in obs:
    obs["actor"] = obs["history"][:, -P:].clone()
  if velocity is not None:
    obs["critic"][:, VELOCITY] = velocity
  return TensorDict(obs, batch_size=[num_envs])


def build_alg(
  task: str, multi_gpu: dict | None = None, algorithm: dict | None = None, **estimator
) -> DreamWaqPPO:
  """The task's algorithm on synthetic data; ``algorithm`` and ``estimator`` override
  fields of its config."""
  cfg = rsl_train_cfg(task)
  cfg["algorithm"] |= algorithm or {}
  if estimator:
    cfg["algorithm"]["estimator"] |= estimator
  cfg["multi_gpu"] = multi_gpu
  env = SimpleNamespace(num_envs=NUM_ENVS, num_actions=12)
  alg = DreamWaqPPO.construct_algorithm(synthetic_obs(task), env, cfg, "cpu")
  alg.train_mode()
  return alg


def rollout(
  alg: DreamWaqPPO, task: str, dones_at: dict[int, list[int]] | None = None
) -> list:
  """One rollout of synthetic steps; the velocity at step k is k + 1 in every env."""
  dones_at = dones_at or {}
  obs = synthetic_obs(task, velocity=1.0)
  seen = []
  with torch.inference_mode():
    for k in range(alg.storage.num_transitions_per_env):
      seen.append(obs)
      alg.act(obs)
      obs = synthetic_obs(task, velocity=k + 2.0)
      dones = torch.zeros(NUM_ENVS, dtype=torch.long)
      dones[dones_at.get(k, [])] = 1
      alg.process_env_step(obs, torch.rand(NUM_ENVS), dones, {})
    alg.compute_returns(obs)
  return seen + [obs]


# CENet and EstNet.


def test_cenet_shapes_and_separate_heads():
  net = CENet()
  history = torch.randn(7, H)
  out = net.encoder(history)
  vel, mu, logvar = net.encode(history)
  assert out.shape == (7, V + 2 * Z)
  assert torch.equal(vel, out[:, :V])
  assert torch.equal(mu, out[:, V : V + Z])
  assert torch.equal(logvar, out[:, V + Z :])
  assert net.forward(history, sample=True).shape == (7, V + Z)
  assert net.decoder(torch.randn(7, V + Z)).shape == (7, P)
  linear = [m for m in net.encoder if isinstance(m, torch.nn.Linear)]
  decoder = [m for m in net.decoder if isinstance(m, torch.nn.Linear)]
  assert [(m.in_features, m.out_features) for m in linear] == [
    (H, 128),
    (128, 64),
    (64, 35),
  ]
  assert [(m.in_features, m.out_features) for m in decoder] == [
    (19, 64), (64, 128), (128, 48), (48, P),
  ]  # fmt: skip
  est = EstNet()
  assert est(history).shape == (7, V)
  assert [(m.in_features, m.out_features) for m in est.net if isinstance(m, torch.nn.Linear)] == [
    (H, 128), (128, 64), (64, V),
  ]  # fmt: skip


def test_deployed_cenet_uses_the_mean():
  net = CENet()
  history = torch.randn(5, H)
  _, mu, _ = net.encode(history)
  a, b = net(history, sample=False), net(history, sample=False)
  assert torch.equal(a, b)
  assert torch.equal(a[:, V:], mu)
  assert not torch.equal(net(history, sample=True)[:, V:], mu)


def test_kl_by_hand():
  mu = torch.tensor([[0.5, -1.0], [0.0, 0.0]])
  logvar = torch.tensor([[0.0, math.log(4.0)], [0.0, 0.0]])
  first = -0.5 * (1 + 0 - 0.25 - 1) - 0.5 * (1 + math.log(4.0) - 1.0 - 4.0)
  assert kl_divergence(mu, logvar).item() == pytest.approx((first + 0.0) / 2, rel=1e-6)


def test_kl_matches_torch_distributions():
  mu, logvar = torch.randn(32, Z), torch.randn(32, Z)
  q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
  p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
  expected = torch.distributions.kl_divergence(q, p).sum(-1).mean()
  assert kl_divergence(mu, logvar).item() == pytest.approx(expected.item(), rel=1e-5)


def test_reparameterisation():
  mu, logvar = torch.tensor([[1.0, -2.0]]), torch.tensor([[0.0, math.log(9.0)]])
  noise = torch.tensor([[0.5, -1.0]])
  assert torch.allclose(reparameterize(mu, logvar, noise), torch.tensor([[1.5, -5.0]]))
  # Sampled: mean μ, standard deviation σ, and differentiable in μ and log σ².
  torch.manual_seed(0)
  n = 200_000
  mu_n = mu.expand(n, 2).clone().requires_grad_(True)
  logvar_n = logvar.expand(n, 2).clone().requires_grad_(True)
  z = reparameterize(mu_n, logvar_n)
  assert torch.allclose(z.mean(0), mu[0], atol=0.03)
  assert torch.allclose(z.std(0), torch.tensor([1.0, 3.0]), atol=0.03)
  z.sum().backward()
  assert torch.allclose(mu_n.grad, torch.ones_like(mu_n))
  eps = (z - mu_n) / torch.exp(0.5 * logvar_n)
  assert torch.allclose(logvar_n.grad, 0.5 * eps * torch.exp(0.5 * logvar_n), atol=1e-5)


def _batch(n: int = 6) -> TensorDict:
  valid = torch.ones(n, dtype=torch.bool)
  valid[[1, 4]] = False
  return TensorDict(
    {
      "history": torch.randn(n, H),
      "velocity": torch.randn(n, V),
      "next_obs": torch.randn(n, P),
      "next_valid": valid,
    },
    batch_size=[n],
  )


def test_cenet_loss_by_hand():
  net, batch, beta = CENet(), _batch(), 1.7
  torch.manual_seed(3)
  loss = net.loss(batch, beta)
  torch.manual_seed(3)
  out = net.encoder(batch["history"]).tolist()
  noise = torch.randn(len(out), Z).tolist()
  vel_sq = recon_sq = kl = 0.0
  n_valid = 0
  for i, row in enumerate(out):
    vel, mu, logvar = row[:V], row[V : V + Z], row[V + Z :]
    vel_sq += sum((a - b) ** 2 for a, b in zip(vel, batch["velocity"][i].tolist()))
    z = [m + e * math.exp(0.5 * lv) for m, e, lv in zip(mu, noise[i], logvar)]
    kl += -0.5 * sum(1 + lv - m * m - math.exp(lv) for m, lv in zip(mu, logvar))
    if batch["next_valid"][i]:
      recon = net.decoder(torch.tensor([vel + z])).squeeze(0).tolist()
      recon_sq += sum((a - b) ** 2 for a, b in zip(recon, batch["next_obs"][i].tolist()))
      n_valid += 1
  expected = {
    "velocity": vel_sq / (len(out) * V),
    "next_obs": recon_sq / (n_valid * P),
    "kl": kl / len(out),
  }
  for name, value in expected.items():
    assert loss.terms[name].item() == pytest.approx(value, rel=1e-4)
  total = expected["velocity"] + expected["next_obs"] + beta * expected["kl"]
  assert loss.total.item() == pytest.approx(total, rel=1e-4)


def test_next_obs_target_masked_at_episode_end():
  net, batch = CENet(), _batch()
  torch.manual_seed(0)
  before = net.loss(batch, 1.0).terms["next_obs"]
  batch["next_obs"][~batch["next_valid"]] = 1e6  # the next episode's first observation
  torch.manual_seed(0)
  after = net.loss(batch, 1.0).terms["next_obs"]
  assert after.item() == pytest.approx(before.item())
  pred, target = torch.zeros(3, 2), torch.tensor([[1.0, 1.0], [5.0, 5.0], [3.0, 3.0]])
  assert masked_mse(
    pred, target, torch.tensor([True, False, True])
  ).item() == pytest.approx(5.0)


def test_rollout_samples_pair_each_step_with_its_own_targets():
  steps, envs = 4, 3
  k = torch.arange(steps, dtype=torch.float).view(steps, 1, 1).expand(steps, envs, 1)
  obs = TensorDict(
    {
      "history": k.expand(steps, envs, H).clone(),
      "actor": (10 + k).expand(steps, envs, P).clone(),
      "critic": (100 + k).expand(steps, envs, layout.CRITIC_DIM).clone(),
    },
    batch_size=[steps, envs],
  )
  dones = torch.zeros(steps, envs, 1, dtype=torch.uint8)
  dones[2, 1] = 1
  final = torch.full((envs, P), 14.0)
  samples = estimator_samples(obs, final, dones).view(steps, envs)
  step_of = samples["history"][..., 0]
  assert torch.equal(
    samples["velocity"][..., 0], 100 + step_of
  )  # fresh: v_k with history_k
  assert torch.equal(
    samples["next_obs"][..., 0], 11 + step_of
  )  # o_{k+1}, final after the last
  expected_valid = torch.ones(steps, envs, dtype=torch.bool)
  expected_valid[2, 1] = False
  assert torch.equal(samples["next_valid"], expected_valid)


def test_estnet_target_is_refreshed_every_step():
  """Through the algorithm: the target stored with step k is the velocity at step k."""
  alg = build_alg("a1_est")
  seen = rollout(alg, "a1_est")
  samples = estimator_samples(alg.storage.observations, alg._final_obs, alg.storage.dones)
  samples = samples.view(STEPS, NUM_ENVS)
  for k in range(STEPS):
    assert torch.equal(samples["velocity"][k], seen[k]["critic"][:, VELOCITY])
    assert torch.all(samples["velocity"][k] == k + 1.0)
    assert torch.equal(samples["history"][k], seen[k]["history"])


def test_estnet_loss_is_velocity_mse():
  net, batch = EstNet(), _batch()
  expected = ((net(batch["history"]) - batch["velocity"]) ** 2).mean()
  assert net.loss(batch, 2.0).total.item() == pytest.approx(expected.item())


def test_beta_schedule():
  beta = BetaSchedule()
  assert beta.value == 1.0
  assert beta.step() == pytest.approx(1.01)
  for _ in range(500):
    beta.step()
  assert beta.value == 4.0


# Normalisers.


def test_normaliser_statistics_and_shared_frames():
  est = NormalizedEstimator("cenet")
  est.train()
  torch.manual_seed(0)
  obs = [torch.randn(50, P) * 3 + 2 for _ in range(4)]
  vel = [torch.randn(50, V) * 0.5 - 1 for _ in range(4)]
  for o, v in zip(obs, vel):
    est.update_statistics(o, v)
  all_obs, all_vel = torch.cat(obs), torch.cat(vel)
  assert torch.allclose(est.obs_normalizer.mean, all_obs.mean(0), atol=1e-5)
  assert torch.allclose(est.obs_normalizer.std, all_obs.std(0, unbiased=False), atol=1e-4)
  assert torch.allclose(est.velocity_normalizer.mean, all_vel.mean(0), atol=1e-5)
  assert torch.allclose(
    est.velocity_normalizer.std, all_vel.std(0, unbiased=False), atol=1e-4
  )
  frame = torch.randn(2, P)
  history = frame.repeat(1, layout.HISTORY_LENGTH)
  normalised = normalize_frames(est.obs_normalizer, history).view(
    2, layout.HISTORY_LENGTH, P
  )
  for i in range(layout.HISTORY_LENGTH):
    assert torch.allclose(normalised[:, i], est.obs_normalizer(frame))
  est.eval()
  est.update_statistics(obs[0] * 100, vel[0])  # frozen outside training
  assert torch.allclose(est.obs_normalizer.mean, all_obs.mean(0), atol=1e-5)


# AdaBoot.


def test_boot_probability_on_known_returns():
  returns = [1.0, 2.0, 3.0, 4.0]
  cv = statistics.stdev(returns) / abs(statistics.mean(returns))
  assert boot_probability(torch.tensor(returns)) == pytest.approx(
    1 - math.tanh(cv), rel=1e-6
  )
  assert boot_probability(torch.full((5,), 7.0)) == pytest.approx(1.0)  # no spread


def test_adaboot_tracks_episode_returns():
  boot = AdaBoot(num_envs=3, device="cpu")
  rewards = torch.tensor([1.0, 2.0, -1.0])
  for step in range(4):
    dones = torch.tensor([step == 2, step == 1, False])
    boot.record(rewards, dones)
  assert boot.update() == pytest.approx(boot_probability(torch.tensor([3.0, 4.0])))
  p = boot.p_boot
  boot.record(rewards, torch.tensor([1, 0, 0]))  # one episode ends: no CV, p_boot kept
  assert boot.update() == p
  boot.record(
    rewards, torch.tensor([0, 0, 1])
  )  # env 2 ends its first episode: -1 × 6 steps
  boot.record(rewards, torch.tensor([0, 1, 0]))  # env 1 ends its second: 2 × 5 steps
  assert boot.update() == pytest.approx(boot_probability(torch.tensor([-6.0, 10.0])))


def test_adaboot_choice_frequency():
  boot = AdaBoot(num_envs=1, device="cpu")
  estimate, truth = torch.zeros(20_000, V), torch.ones(20_000, V)
  for p in (0.0, 0.3, 1.0):
    boot.p_boot = p
    chosen = boot.choose(estimate, truth)
    assert torch.all(chosen == chosen[:, :1])  # one choice per env, all components
    assert chosen[:, 0].mean().item() == pytest.approx(p, abs=0.02)


# The algorithm.


@pytest.mark.parametrize("task", list(TASKS))
def test_actor_and_critic_inputs_per_task(task):
  spec = get_task(task)
  alg = build_alg(task)
  assert alg.actor.obs_dim == spec.policy_input
  assert alg.critic.obs_dim == (P if spec.kind == "base" else layout.CRITIC_DIM)
  hidden = [m.out_features for m in alg.actor.mlp if isinstance(m, torch.nn.Linear)][:-1]
  assert hidden == [512, 256, 128]
  assert (alg.estimator is None) == (spec.estimator is None)
  if spec.estimator:
    assert alg.estimator.name == spec.estimator
    assert POLICY_INPUT in alg.storage.observations


def test_ppo_defaults():
  alg = build_alg("a1_waq")
  assert (alg.num_learning_epochs, alg.num_mini_batches) == (5, 4)
  assert (alg.clip_param, alg.gamma, alg.lam) == (0.2, 0.99, 0.95)
  assert (alg.learning_rate, alg.schedule, alg.desired_kl) == (1e-3, "adaptive", 0.01)
  assert (alg.entropy_coef, alg.value_loss_coef, alg.max_grad_norm) == (0.01, 1.0, 1.0)
  assert alg.use_clipped_value_loss
  assert torch.equal(alg.actor.distribution.std_param, torch.ones(12))
  assert rsl_train_cfg("a1_waq")["num_steps_per_env"] == STEPS
  assert runner_cfg(get_task("a1_waq")).num_steps_per_env == 24


@pytest.mark.parametrize("task", ["a1_waq", "a1_est"])
def test_update_trains_estimator_apart_from_ppo(task):
  alg = build_alg(task)
  before = [p.detach().clone() for p in alg.estimator.net.parameters()]
  ppo_params = {id(p) for g in alg.optimizer.param_groups for p in g["params"]}
  assert not ppo_params & {id(p) for p in alg.estimator.parameters()}
  rollout(alg, task, dones_at={1: [0, 1, 2], 3: [3, 4]})
  stored = alg.storage.observations[POLICY_INPUT]
  assert not stored.requires_grad
  losses = alg.update()
  name = get_task(task).estimator
  assert name in losses and all(math.isfinite(v) for v in losses.values())
  if name == "cenet":
    assert {"cenet_velocity", "cenet_next_obs", "cenet_kl"} <= losses.keys()
    assert alg.metrics["Estimator/beta"] == 1.0 and alg.beta.value == pytest.approx(1.01)
  after = list(alg.estimator.net.parameters())
  assert any(not torch.equal(a, b) for a, b in zip(before, after))
  assert alg.metrics["Estimator/velocity_error_mps"] > 0
  assert 0.0 <= alg.metrics["AdaBoot/p_boot"] <= 1.0
  assert alg.metrics["AdaBoot/p_boot"] > 0  # five episodes ended with different returns


def test_policy_input_uses_estimate_or_truth():
  alg = build_alg("a1_waq")
  obs = synthetic_obs("a1_waq", velocity=0.7)
  truth = alg.estimator.velocity_normalizer(obs["critic"][:, VELOCITY])
  alg.adaboot.p_boot = 1.0
  assert torch.allclose(alg.policy_input(obs)[:, P : P + V], truth)
  alg.adaboot.p_boot = 0.0
  estimate = alg.estimator(obs["history"])[:, :V]
  assert torch.allclose(alg.policy_input(obs)[:, P : P + V], estimate)
  alg.eval_mode()
  alg.adaboot.p_boot = 1.0  # ignored when deployed: z = μ and v̂ always
  assert torch.allclose(alg.policy_input(obs), alg.policy_input(obs))
  assert torch.allclose(alg.policy_input(obs)[:, P:], alg.estimator(obs["history"]))


@pytest.mark.parametrize("task", list(TASKS))
def test_inference_policy_is_deterministic_and_matches_actor(task):
  alg = build_alg(task)
  rollout(alg, task)  # non-trivial normaliser statistics
  alg.eval_mode()
  obs = synthetic_obs(task)
  policy = alg.inference_policy()
  inputs = (obs["actor"], obs["history"]) if alg.estimator is not None else (obs["actor"],)
  if alg.estimator is not None:
    obs[POLICY_INPUT] = alg.policy_input(obs)
    action = policy(*inputs)[0]
  else:
    action = policy(*inputs)
  assert torch.allclose(action, alg.actor(obs), atol=1e-5)
  again = policy(*inputs)
  assert torch.equal(action, again[0] if alg.estimator is not None else again)


def test_checkpoint_round_trip():
  alg = build_alg("a1_waq")
  rollout(alg, "a1_waq", dones_at={0: [0, 1, 2, 3]})
  alg.update()
  saved = alg.save()
  other = build_alg("a1_waq")
  other.load(saved, None, strict=True)
  for a, b in zip(
    alg.estimator.state_dict().values(), other.estimator.state_dict().values()
  ):
    assert torch.equal(a, b)
  assert other.beta.value == alg.beta.value and other.adaboot.p_boot == alg.adaboot.p_boot
  assert (
    other.estimator_optimizer.state_dict()["state"].keys()
    == saved["estimator_optimizer_state_dict"]["state"].keys()
  )
  assert other.estimator_scheduler.state_dict() == alg.estimator_scheduler.state_dict()
  assert other.learning_rate == alg.learning_rate


@pytest.mark.parametrize("slimmed", [False, True])
def test_a_fine_tune_can_set_its_own_learning_rates(slimmed):
  alg = build_alg("a1_waq")
  alg.learning_rate = 3.8e-4  # where the adaptive schedule had taken it
  for group in alg.optimizer.param_groups:
    group["lr"] = alg.learning_rate
  saved = alg.save()
  saved = slim(saved) if slimmed else saved
  resumed = build_alg("a1_waq")
  resumed.load(saved, None, strict=True)
  assert resumed.optimizer.param_groups[0]["lr"] == resumed.learning_rate == 3.8e-4
  fine_tune = {"learning_rate": 3e-5, "schedule": "fixed", "resume_learning_rate": False}
  tuned = build_alg("a1_waq", algorithm=fine_tune, learning_rate=1e-5)
  tuned.load(saved, None, strict=True)
  assert tuned.optimizer.param_groups[0]["lr"] == tuned.learning_rate == 3e-5
  assert tuned.estimator_optimizer.param_groups[0]["lr"] == 1e-5
  # Everything else is the checkpoint's.
  assert torch.equal(
    torch.nn.utils.parameters_to_vector(tuned.actor.parameters()),
    torch.nn.utils.parameters_to_vector(alg.actor.parameters()),
  )
  rollout(tuned, "a1_waq", dones_at={0: [0, 1, 2, 3]})
  tuned.update()  # "fixed": the update leaves the rate where the config put it
  assert tuned.optimizer.param_groups[0]["lr"] == 3e-5


# Multi-GPU: two CPU processes on gloo.


def _distributed_worker(rank: int, world_size: int, port: int) -> None:
  os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
  torch.distributed.init_process_group("gloo", rank=rank, world_size=world_size)
  try:
    torch.manual_seed(rank)  # different initial weights and data per rank
    gpu = {"global_rank": rank, "local_rank": rank, "world_size": world_size}
    alg = build_alg("a1_waq", multi_gpu=gpu)
    alg.broadcast_parameters()
    initial = torch.nn.utils.parameters_to_vector(alg.estimator.net.parameters()).detach()
    for _ in range(2):
      rollout(alg, "a1_waq")
      losses = alg.update()
    weights = torch.nn.utils.parameters_to_vector(alg.estimator.net.parameters()).detach()
    gathered = [torch.zeros_like(weights) for _ in range(world_size)]
    torch.distributed.all_gather(gathered, weights)
    loss = torch.tensor([losses["cenet"]])
    all_losses = [torch.zeros(1) for _ in range(world_size)]
    torch.distributed.all_gather(all_losses, loss)
    assert not torch.equal(weights, initial)
    assert all(torch.equal(gathered[0], w) for w in gathered[1:])
    assert not torch.equal(all_losses[0], all_losses[1])  # the ranks saw different data
  finally:
    torch.distributed.destroy_process_group()


def test_estimator_weights_stay_identical_across_ranks():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
  mp.spawn(_distributed_worker, args=(2, port), nprocs=2, join=True)
