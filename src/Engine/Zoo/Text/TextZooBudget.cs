namespace Amalgam.Engine.Zoo.Text;

/// <summary>
/// How much work a text zoo gets at Budget 1; <see cref="TextZooOptions.Budget"/> multiplies the
/// counts. Fine-tuning follows the usual BERT recipe at a small scale: AdamW, peak learning rate
/// 2e-5 after a linear warm-up over the first tenth of the steps, cosine decay, weight decay 0.01,
/// batches of 16 split into micro-batches of 8 (so the weights do not depend on the thread count).
/// Sequences are cut to <see cref="SingleLength"/> tokens (one text) or <see cref="PairLength"/>
/// (sentence pairs); glosses are far shorter, long fortunes and FOLDOC entries are truncated.
/// Sized so the whole text demo fits in an hour on 2 cores (README).
/// </summary>
public sealed record TextZooBudget(int ProbeSamples, int ProbeIterations, int FineTuneSteps,
    int BatchSize = 16, int MicroBatchSize = 8, float LearningRate = 2e-5f, float WeightDecay = 0.01f, int SingleLength = 48, int PairLength = 64)
{
    /// <summary>L2 weights the text probes choose from on held-out examples (<see cref="LinearProbe.ChooseL2"/>).</summary>
    public static readonly IReadOnlyList<double> ProbeL2Candidates = [1e-3, 1e-2, 1e-1, 1];

    public static TextZooBudget For(double budget)
    {
        if (!(budget > 0) || double.IsInfinity(budget)) throw new Amalgam.Kernels.BadInputException($"zoo budget {budget}: must be a positive number");
        // 2,000 probe examples and 2,000 others for fine-tuning (125 x 16): every task has 4,000 training examples.
        var b = new TextZooBudget(ProbeSamples: 2000, ProbeIterations: 200, FineTuneSteps: 125);
        int S(int n) => Math.Max(1, (int)Math.Round(n * budget));
        return b with
        {
            ProbeSamples = Math.Max(b.BatchSize, S(b.ProbeSamples)),
            ProbeIterations = S(b.ProbeIterations),
            FineTuneSteps = S(b.FineTuneSteps),
        };
    }
}
