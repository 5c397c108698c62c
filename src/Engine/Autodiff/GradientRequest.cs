namespace Amalgam.Engine.Autodiff;

/// <summary>What to differentiate: the parameters (initializers), the fixed shape of every data input
/// (batch included), the loss, and which output it is computed from (null: the model's only output).</summary>
public sealed record GradientRequest(IReadOnlyList<string> Parameters, IReadOnlyDictionary<string, long[]> InputShapes, GradientLoss Loss)
{
    public string? Output { get; init; }

    /// <summary>w of <see cref="GradientLoss.InformationMaximisation"/>: the weight of the batch-marginal entropy.</summary>
    public double ImWeight { get; init; } = 1;
}
