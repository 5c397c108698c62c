namespace Amalgam.Engine.Training;

/// <summary>Progress of a gradient computation: samples processed so far out of all.</summary>
public readonly record struct GradProgress(long SamplesDone, long SamplesTotal, TimeSpan Elapsed)
{
    public double Fraction => SamplesTotal > 0 ? (double)SamplesDone / SamplesTotal : 1;
}
