"""Run under KERAS_BACKEND=<backend>: fit a small model with a multiloss loss and with Keras's
own equivalent from the same weights, save and reload the first, and print the results as JSON."""

import json
import os
import sys
import tempfile

import keras
import numpy as np

import multiloss.keras as mk

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 5)).astype("float32")
y = (x @ rng.normal(size=(5, 2)) + rng.normal(size=(64, 2)) * 3).astype("float32")


def model_with(loss):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=loss)
    return model


ours, theirs = model_with(mk.Huber(delta=0.5)), model_with(keras.losses.Huber(delta=0.5))
h_ours = ours.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0).history["loss"]
h_theirs = theirs.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0).history["loss"]
path = os.path.join(tempfile.mkdtemp(), "model.keras")
ours.save(path)
loaded = keras.models.load_model(path)
# a loss of three arrays: the model outputs [mean, var] stacked on axis 1
keras.utils.set_random_seed(0)
inputs = keras.Input((5,))
d = keras.layers.Dense(2)(inputs)
gaussian = keras.Model(inputs, keras.ops.stack([d[:, 0], keras.ops.softplus(d[:, 1]) + 1e-3], axis=1))
gaussian.compile(optimizer=keras.optimizers.SGD(0.01), loss=mk.GaussianNll())
h_gaussian = gaussian.fit(x, y[:, 0], epochs=5, batch_size=16, shuffle=False, verbose=0).history["loss"]

json.dump({
    "gaussian": h_gaussian,
    "backend": keras.backend.backend(),
    "ours": h_ours,
    "theirs": h_theirs,
    "loss_class": type(loaded.loss).__name__,
    "delta": loaded.loss.params["delta"],
    "evaluate": [float(ours.evaluate(x, y, verbose=0)), float(loaded.evaluate(x, y, verbose=0))],
}, sys.stdout)
