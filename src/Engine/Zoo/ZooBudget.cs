namespace Amalgam.Engine.Zoo;

/// <summary>
/// How much training a zoo gets, per size preset at Budget 1; <see cref="ZooOptions.Budget"/>
/// multiplies every count (at least 1 step each; at least one batch of probe samples). Batches of <see cref="BatchSize"/> split into micro-batches of
/// <see cref="MicroBatchSize"/> so the weights do not depend on the thread count. The fine-tuning
/// learning rate is kept low (5e-4 peak) so the fine-tuned towers stay close to the pretrained one,
/// as CLIP fine-tunes do: measured on four small tasks, 2e-3 gained 2 points more per task but its
/// task vectors interfered so much that Task Arithmetic fell below the zero-shot probes; at 5e-4
/// it sits between zero-shot and fine-tuned, as in the papers.
/// </summary>
public sealed record ZooBudget(int PretrainSteps, int ProbeSamples, int ProbeIterations, int FineTuneSteps,
    int BatchSize = 64, int MicroBatchSize = 32, float PretrainLearningRate = 3e-3f, float FineTuneLearningRate = 5e-4f, float WeightDecay = 0.01f)
{
    public static ZooBudget For(string size, double budget)
    {
        if (!(budget > 0) || double.IsInfinity(budget)) throw new Amalgam.Kernels.BadInputException($"zoo budget {budget}: must be a positive number");
        var b = size switch
        {
            "tiny" => new ZooBudget(PretrainSteps: 300, ProbeSamples: 2000, ProbeIterations: 150, FineTuneSteps: 200, FineTuneLearningRate: 1e-3f),
            "small" => new ZooBudget(PretrainSteps: 600, ProbeSamples: 4000, ProbeIterations: 200, FineTuneSteps: 200),
            "base" => new ZooBudget(PretrainSteps: 1500, ProbeSamples: 8000, ProbeIterations: 300, FineTuneSteps: 400),
            _ => throw new Amalgam.Kernels.BadInputException($"unknown zoo size '{size}' (known: tiny, small, base)"),
        };
        int S(int n) => Math.Max(1, (int)Math.Round(n * budget));
        return b with
        {
            PretrainSteps = S(b.PretrainSteps),
            ProbeSamples = Math.Max(b.BatchSize, S(b.ProbeSamples)),
            ProbeIterations = S(b.ProbeIterations),
            FineTuneSteps = S(b.FineTuneSteps),
        };
    }
}
