using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Training;

/// <summary>
/// What <see cref="Trainer.Train"/> does: minimise the mean cross-entropy of a classifier's logits
/// over labelled samples with mini-batches shuffled by <see cref="Seed"/>, updating the chosen
/// float32 parameters with an optimiser, then write them back into <see cref="Model"/> (and save
/// it to <see cref="Out"/> when given).
/// </summary>
public sealed record TrainRequest
{
    /// <summary>The classifier: its data inputs, logits [batch, classes] as its only (or <see cref="Output"/>) output. Its initializers are replaced by the trained values.</summary>
    public required OnnxModel Model { get; init; }

    /// <summary>
    /// Training samples of a single-input model [N, ...]: each sample holds as many elements as one
    /// sample of the model input (e.g. images f32 [N, 28, 28] for an input [batch, 1, 28, 28] or
    /// [batch, 784]), in the input's dtype. Give this or <see cref="InputSet"/>.
    /// </summary>
    public Tensor? Inputs { get; init; }

    /// <summary>
    /// Training samples of a model with several inputs (e.g. a text encoder's input_ids,
    /// attention_mask, token_type_ids): one tensor per model input, by input name, samples on the
    /// first axis, the other dims those of every batch (a symbolic sequence axis takes the data's length).
    /// </summary>
    public IReadOnlyDictionary<string, Tensor>? InputSet { get; init; }

    /// <summary>Training labels i64 [N].</summary>
    public required Tensor Labels { get; init; }

    /// <summary>Held-out samples and labels, evaluated at the end of each epoch (optional).</summary>
    public Tensor? TestInputs { get; init; }

    /// <summary>Held-out samples of a several-input model, by input name (see <see cref="InputSet"/>).</summary>
    public IReadOnlyDictionary<string, Tensor>? TestInputSet { get; init; }

    public Tensor? TestLabels { get; init; }

    /// <summary>Also run the training set forward at each epoch end for its accuracy (a third of an epoch's cost, roughly).</summary>
    public bool EvaluateTrainingSet { get; init; } = true;

    /// <summary>Initializers to train (f32); null = every float32 initializer.</summary>
    public IReadOnlyList<string>? Parameters { get; init; }

    /// <summary>The logits output; null = the model's only output.</summary>
    public string? Output { get; init; }

    public int Epochs { get; init; } = 1;

    /// <summary>Samples per step; each epoch visits a fresh permutation and skips its last incomplete batch (as drop_last).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Seeds the shuffling: the same seed, data and thread count give the same weights.</summary>
    public ulong Seed { get; init; }

    /// <summary>Makes the optimiser over the parameter tensors; null = AdamW with <see cref="LearningRate"/>.</summary>
    public Func<IReadOnlyList<Tensor>, Optimizer>? CreateOptimizer { get; init; }

    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>
    /// Splits each batch into micro-batches of this size (it must divide <see cref="BatchSize"/>), run
    /// side by side on <see cref="Threads"/> single-threaded sessions; their gradients are averaged in a
    /// fixed order, so the weights do not depend on <see cref="Threads"/>. Null = one session per batch.
    /// </summary>
    public int? MicroBatchSize { get; init; }

    /// <summary>
    /// With micro-batches: how many run at once (0 = one per core); the result does not depend on it.
    /// Without: ONNX Runtime intra-op threads (0 = all cores), which change the last bits of the weights
    /// (measured), hence the default 1.
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>Where to save the trained model (temp file, then rename); null = only update <see cref="Model"/> in memory.</summary>
    public string? Out { get; init; }

    public IProgress<TrainProgress>? Progress { get; init; }
}

/// <summary>
/// Training progress: after every step (<see cref="Loss"/> of that batch) and, with
/// <see cref="EpochEnd"/> set, at the end of each epoch with the epoch's mean training loss, the
/// training-batch accuracy of the epoch and, when a test set is given, the test loss and accuracy.
/// </summary>
public sealed record TrainProgress(int Epoch, long Step, long TotalSteps, double Loss, TimeSpan Elapsed)
{
    public bool EpochEnd { get; init; }
    public double? TrainAccuracy { get; init; }
    public double? TestLoss { get; init; }
    public double? TestAccuracy { get; init; }
}

/// <summary>What <see cref="Trainer.Train"/> did: mean training loss per epoch, training-set accuracy after each epoch (when evaluated), test results after each epoch (when a test set was given).</summary>
public sealed record TrainResult(IReadOnlyList<double> EpochLosses, IReadOnlyList<double> TrainAccuracies,
    IReadOnlyList<double> TestLosses, IReadOnlyList<double> TestAccuracies, long Steps, double Seconds);
