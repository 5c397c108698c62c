using System.Text.Json;

namespace Amalgam.Engine.Evaluation;

/// <summary>
/// What <see cref="Evaluator.Evaluate"/> measured: accuracy (argmax = label), mean cross-entropy
/// (float64), the sample and class counts, and per class (by label) the samples, correct
/// predictions and accuracy (NaN when no sample has that label).
/// </summary>
public sealed record EvalResult
{
    public required double Accuracy { get; init; }

    /// <summary>Mean cross-entropy -log softmax(logits)[label] over the samples.</summary>
    public required double Loss { get; init; }

    /// <summary>Samples evaluated.</summary>
    public required long Count { get; init; }

    /// <summary>Correct predictions.</summary>
    public required long Correct { get; init; }

    /// <summary>Classes C of the model's output [N, C].</summary>
    public required int ClassCount { get; init; }

    /// <summary>Per class c: correct / samples labelled c; NaN when no sample is labelled c.</summary>
    public required double[] PerClassAccuracy { get; init; }

    /// <summary>Per class c: samples labelled c.</summary>
    public required long[] PerClassCount { get; init; }

    /// <summary>Per class c: samples labelled c that were predicted c.</summary>
    public required long[] PerClassCorrect { get; init; }

    public double Seconds { get; init; }

    /// <summary>One JSON object: accuracy, loss, samples, correct, classes, seconds and per_class
    /// [{class, samples, correct, accuracy}] (accuracy null for a class without samples).</summary>
    public string ToJson(bool indented = true)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartObject();
            Number(w, "accuracy", Accuracy);
            Number(w, "loss", Loss);
            w.WriteNumber("samples", Count);
            w.WriteNumber("correct", Correct);
            w.WriteNumber("classes", ClassCount);
            w.WriteNumber("seconds", Seconds);
            w.WriteStartArray("per_class");
            for (int c = 0; c < ClassCount; c++)
            {
                w.WriteStartObject();
                w.WriteNumber("class", c);
                w.WriteNumber("samples", PerClassCount[c]);
                w.WriteNumber("correct", PerClassCorrect[c]);
                Number(w, "accuracy", PerClassAccuracy[c]);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>JSON has no NaN or infinity: those are written as null.</summary>
    private static void Number(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }
}
