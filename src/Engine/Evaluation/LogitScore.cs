namespace Amalgam.Engine.Evaluation;

/// <summary>
/// One row of classifier logits scored against its label, in float64: cross-entropy
/// -log softmax(z)[label] = log sum_c exp(z_c - max) + max - z_label (log-sum-exp, so large logits
/// do not overflow) and the predicted class (argmax, the first index on ties).
/// </summary>
internal static class LogitScore
{
    public static (double Loss, int Predicted) Score(ReadOnlySpan<float> row, long label)
    {
        int arg = 0;
        double max = row[0];
        for (int c = 1; c < row.Length; c++)
            if (row[c] > max) { max = row[c]; arg = c; }
        double sum = 0;
        for (int c = 0; c < row.Length; c++) sum += Math.Exp(row[c] - max);
        return (Math.Log(sum) + max - row[(int)label], arg);
    }
}
