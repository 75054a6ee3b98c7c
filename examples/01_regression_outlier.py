"""MSE, MAE and Huber on data with an outlier
==========================================

MSE, MAE and Huber on five points, one of them an outlier, on every installed framework.

Run: python examples/01_regression_outlier.py
"""

import numpy as np
from _frameworks import agree, frameworks, table

import multiloss as ml

y_true = np.array([1.0, 2.0, 3.0, 4.0, 100.0])  # the last target is an outlier
y_pred = np.array([1.1, 2.1, 2.9, 4.2, 5.0])


def main():
    print(f"y_true = {y_true.tolist()}\ny_pred = {y_pred.tolist()}\n")
    results = {}
    for name, to_array in frameworks():
        t, p = to_array(y_true), to_array(y_pred)
        results[name] = [float(ml.mse(t, p)), float(ml.mae(t, p)), float(ml.huber(t, p, delta=1.0))]
    table(["framework", "MSE", "MAE", "Huber(δ=1)"], [(name, *values) for name, values in results.items()])
    agree(results)

    errors = y_pred - y_true
    share = errors[-1] ** 2 / np.sum(errors**2)
    print(f"\nWhy MSE explodes: squaring turns the outlier's error of {abs(errors[-1]):g} into {errors[-1] ** 2:g}, "
          f"{share:.3%} of the squared error,\nso MSE grows with the square of an outlier, while MAE and Huber "
          f"(quadratic only within δ = 1) grow linearly with it.")


if __name__ == "__main__":
    main()
