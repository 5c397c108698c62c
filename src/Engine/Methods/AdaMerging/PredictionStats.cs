namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// What a task's predictions look like at one step of an AdaMerging run, over its probe inputs:
/// the mean softmax entropy mean_b H(p_b) (what the paper minimises), the entropy of the mean
/// prediction H(mean_b p_b) (the marginal: log C when the predictions spread evenly, 0 when every
/// input gets the same one-hot prediction), and the share of inputs whose argmax is the most
/// predicted class. Entropies in nats.
/// </summary>
public sealed record PredictionStats(string Task, long Step, int Samples, int Classes, double MeanEntropy, double MarginalEntropy,
    double TopShare, int TopClass);

/// <summary>Accumulates <see cref="PredictionStats"/> from logits, row by row, in float64 (log-sum-exp per row).</summary>
public sealed class PredictionTally(int classes)
{
    private readonly double[] _meanP = new double[classes];
    private readonly long[] _argmaxCounts = new long[classes];
    private readonly double[] _row = new double[classes];
    private double _entropySum;
    private int _samples;

    /// <summary>Adds <paramref name="rows"/> rows of <see cref="classes"/> logits each.</summary>
    public void Add(ReadOnlySpan<float> logits, int rows)
    {
        if (logits.Length < (long)rows * classes) throw new ArgumentException($"{rows} rows of {classes} logits need {(long)rows * classes} values, got {logits.Length}", nameof(logits));
        for (int r = 0; r < rows; r++)
        {
            var z = logits.Slice(r * classes, classes);
            int arg = 0;
            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                if (z[c] > max) (max, arg) = (z[c], c); // first index on ties, as `amalgam eval`
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += _row[c] = Math.Exp(z[c] - max);
            double logSum = Math.Log(sum), entropy = 0;
            for (int c = 0; c < classes; c++)
            {
                double p = _row[c] / sum;
                if (p > 0) entropy -= p * (z[c] - max - logSum);
                _meanP[c] += p;
            }
            _entropySum += entropy;
            _argmaxCounts[arg]++;
            _samples++;
        }
    }

    public PredictionStats Result(string task, long step)
    {
        if (_samples == 0) throw new InvalidOperationException("no predictions were added");
        double marginal = 0;
        int top = 0;
        for (int c = 0; c < classes; c++)
        {
            double q = _meanP[c] / _samples;
            if (q > 0) marginal -= q * Math.Log(q);
            if (_argmaxCounts[c] > _argmaxCounts[top]) top = c;
        }
        return new PredictionStats(task, step, _samples, classes, _entropySum / _samples, marginal, (double)_argmaxCounts[top] / _samples, top);
    }
}
