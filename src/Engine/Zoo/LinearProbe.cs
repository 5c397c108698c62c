using System.Numerics.Tensors;

namespace Amalgam.Engine.Zoo;

/// <summary>
/// A linear probe (multinomial logistic regression) on frozen features, fitted in float64 on one
/// thread (so it is deterministic): features standardised per dimension, full-batch Adam on the
/// mean cross-entropy plus <see cref="L2"/> |W|^2 / 2, then the standardisation folded back into
/// the weights so the head applies to raw features: logits = W x + b with W [C, E].
/// Classes a task does not use (labels only reach C - 1) get no positive examples, so the fit
/// pushes their logits down and they never win.
/// </summary>
internal static class LinearProbe
{
    public const double L2 = 1e-4;
    public const double LearningRate = 0.05;

    /// <param name="features">[n, dim] row-major.</param>
    /// <param name="labels">[n], each in [0, classes).</param>
    /// <returns>Weight [classes, dim] and bias [classes] as float32, and the training accuracy.</returns>
    public static (float[] Weight, float[] Bias, double TrainAccuracy) Fit(float[] features, long[] labels, int dim, int classes, int iterations,
        Action<int, double>? progress = null, double l2 = L2)
    {
        int n = labels.Length;
        if (features.Length != (long)n * dim) throw new ArgumentException($"{features.Length} feature values for {n} samples of {dim}");
        var (mean, scale) = Standardisation(features, n, dim);
        var x = new double[features.Length];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < dim; j++) x[i * dim + j] = (features[i * dim + j] - mean[j]) * scale[j];

        int p = classes * (dim + 1);                // W row-major then b
        var theta = new double[p];
        var grad = new double[p];
        var m = new double[p];
        var v = new double[p];
        var logits = new double[classes];
        const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        for (int it = 1; it <= iterations; it++)
        {
            Array.Clear(grad);
            double loss = 0;
            for (int i = 0; i < n; i++)
            {
                var xi = x.AsSpan(i * dim, dim);
                double max = double.NegativeInfinity;
                for (int c = 0; c < classes; c++)
                {
                    double s = theta[classes * dim + c] + TensorPrimitives.Dot<double>(theta.AsSpan(c * dim, dim), xi);
                    logits[c] = s;
                    max = Math.Max(max, s);
                }
                double sum = 0;
                for (int c = 0; c < classes; c++) sum += Math.Exp(logits[c] - max);
                loss += Math.Log(sum) + max - logits[labels[i]];
                for (int c = 0; c < classes; c++)
                {
                    double r = Math.Exp(logits[c] - max) / sum - (c == labels[i] ? 1 : 0);
                    var gw = grad.AsSpan(c * dim, dim);
                    TensorPrimitives.MultiplyAdd<double>(xi, r, gw, gw);
                    grad[classes * dim + c] += r;
                }
            }
            for (int k = 0; k < p; k++)
            {
                double g = grad[k] / n + (k < classes * dim ? l2 * theta[k] : 0);
                m[k] = beta1 * m[k] + (1 - beta1) * g;
                v[k] = beta2 * v[k] + (1 - beta2) * g * g;
                double mh = m[k] / (1 - Math.Pow(beta1, it)), vh = v[k] / (1 - Math.Pow(beta2, it));
                theta[k] -= LearningRate * mh / (Math.Sqrt(vh) + eps);
            }
            progress?.Invoke(it, loss / n);
        }

        // Fold the standardisation in: w'_cj = w_cj s_j, b'_c = b_c - sum_j w_cj s_j mu_j.
        var weight = new float[classes * dim];
        var bias = new float[classes];
        for (int c = 0; c < classes; c++)
        {
            double b = theta[classes * dim + c];
            for (int j = 0; j < dim; j++)
            {
                double w = theta[c * dim + j] * scale[j];
                weight[c * dim + j] = (float)w;
                b -= w * mean[j];
            }
            bias[c] = (float)b;
        }
        return (weight, bias, Accuracy(features, labels, dim, classes, weight, bias));
    }

    /// <summary>
    /// The L2 weight of <paramref name="candidates"/> whose probe, fitted on the first 80 % of the samples,
    /// has the lowest mean cross-entropy on the other 20 % (the first candidate on ties), as linear-probe
    /// evaluations sweep it on validation data. Cross-entropy, not accuracy, so the chosen head is calibrated:
    /// an unregularised probe interpolates a few thousand examples in a few hundred dimensions and is
    /// overconfident on new ones, and that is what fine-tuning behind a frozen head then learns from.
    /// </summary>
    public static double ChooseL2(float[] features, long[] labels, int dim, int classes, int iterations, IReadOnlyList<double> candidates)
    {
        int n = labels.Length, fit = n * 4 / 5;
        if (fit < 1 || fit == n) return candidates[0];
        var trainX = features.AsSpan(0, fit * dim).ToArray();
        var heldX = features.AsSpan(fit * dim).ToArray();
        var trainY = labels.AsSpan(0, fit).ToArray();
        var heldY = labels.AsSpan(fit).ToArray();
        double best = candidates[0], bestLoss = double.PositiveInfinity;
        foreach (double l2 in candidates)
        {
            var (w, b, _) = Fit(trainX, trainY, dim, classes, iterations, null, l2);
            double loss = CrossEntropy(heldX, heldY, dim, classes, w, b);
            if (loss < bestLoss) (best, bestLoss) = (l2, loss);
        }
        return best;
    }

    /// <summary>Mean cross-entropy of the head W x + b on the samples, in float64.</summary>
    public static double CrossEntropy(float[] features, long[] labels, int dim, int classes, float[] weight, float[] bias)
    {
        double total = 0;
        var z = new double[classes];
        for (int i = 0; i < labels.Length; i++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                double s = bias[c];
                for (int j = 0; j < dim; j++) s += (double)weight[c * dim + j] * features[i * dim + j];
                z[c] = s;
                max = Math.Max(max, s);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(z[c] - max);
            total += Math.Log(sum) + max - z[labels[i]];
        }
        return labels.Length == 0 ? 0 : total / labels.Length;
    }

    /// <summary>Share of samples whose largest logit W x + b (first on ties) is the label.</summary>
    public static double Accuracy(float[] features, long[] labels, int dim, int classes, float[] weight, float[] bias)
    {
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            int arg = 0;
            double best = double.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                double s = bias[c];
                for (int j = 0; j < dim; j++) s += (double)weight[c * dim + j] * features[i * dim + j];
                if (s > best) { best = s; arg = c; }
            }
            if (arg == labels[i]) correct++;
        }
        return labels.Length == 0 ? 0 : (double)correct / labels.Length;
    }

    private static (double[] Mean, double[] Scale) Standardisation(float[] f, int n, int dim)
    {
        var mean = new double[dim];
        var scale = new double[dim];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < dim; j++) mean[j] += f[i * dim + j];
        for (int j = 0; j < dim; j++) mean[j] /= n;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < dim; j++) { double d = f[i * dim + j] - mean[j]; scale[j] += d * d; }
        for (int j = 0; j < dim; j++) scale[j] = 1.0 / Math.Sqrt(scale[j] / n + 1e-12);
        return (mean, scale);
    }
}
