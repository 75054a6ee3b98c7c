"""A weighted MSE under tf.distribute.MirroredStrategy over 2 logical CPUs, against one device.
The global batch of 8 splits 4 + 4, with weights summing to 4 on one replica and 1 on the
other. Prints JSON: the single-device mean, the per-replica means averaged (the mean-of-means
pitfall), and per-replica sums divided by the global Σw, summed across replicas."""

import json
import sys

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

import multiloss as ml  # noqa: E402

rng = np.random.default_rng(0)
y_true, y_pred = rng.normal(size=8), rng.normal(size=8)
w = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0])
single = float(ml.mse(tf.constant(y_true), tf.constant(y_pred), sample_weight=tf.constant(w)))
total_weight = tf.constant(w.sum())

batches = strategy.experimental_distribute_dataset(
    tf.data.Dataset.from_tensor_slices((y_true, y_pred, w)).batch(8))
t, p, sw = next(iter(batches))


@tf.function
def replicated(t, p, sw):
    def step(t, p, sw):
        mean = ml.mse(t, p, sample_weight=sw)  # this replica's own weighted mean
        part = ml.mse(t, p, sample_weight=sw, reduction="sum") / total_weight
        return mean, part

    mean, part = strategy.run(step, args=(t, p, sw))
    return (strategy.reduce(tf.distribute.ReduceOp.MEAN, mean, axis=None),
            strategy.reduce(tf.distribute.ReduceOp.SUM, part, axis=None))


mean_of_means, summed = replicated(t, p, sw)
json.dump({"replicas": strategy.num_replicas_in_sync, "single": single, "mean_of_means": float(mean_of_means),
           "sum_over_global_weight": float(summed),
           "expected_mean_of_means": float(np.mean([np.average((y_pred[:4] - y_true[:4]) ** 2, weights=w[:4]),
                                                    np.average((y_pred[4:] - y_true[4:]) ** 2, weights=w[4:])]))},
          sys.stdout)
