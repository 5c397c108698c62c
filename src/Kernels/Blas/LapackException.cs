namespace Amalgam.Kernels.Blas;

/// <summary>
/// A LAPACK routine returned a non-zero <c>INFO</c>. <see cref="Info"/> is the raw value:
/// negative means argument number <c>-Info</c> was illegal (a bug in our wrapper), positive is
/// routine specific (no convergence, singular or indefinite matrix); the message says which.
/// </summary>
public class LapackException : Exception
{
    public LapackException(string routine, int info, string meaning)
        : base($"LAPACK {routine} failed (INFO = {info}): {meaning}")
    {
        Routine = routine;
        Info = info;
    }

    /// <summary>The Fortran routine name, e.g. <c>ssyevr</c>.</summary>
    public string Routine { get; }

    public int Info { get; }

    /// <summary>Exception for a negative INFO: LAPACK rejected argument number <c>-info</c>.</summary>
    internal static LapackException IllegalArgument(string routine, int info) =>
        new(routine, info, $"argument {-info} had an illegal value (a bug in the Amalgam wrapper, please report it)");
}

/// <summary>
/// Cholesky factorisation (<c>spotrf</c> inside <c>sposv</c>) found that the matrix is not positive
/// definite: the leading minor of order <see cref="FailedMinorOrder"/> is not positive definite.
/// Callers such as RegMean catch this and fall back to a regularised or least-squares solve.
/// </summary>
public sealed class NotPositiveDefiniteException : LapackException
{
    public NotPositiveDefiniteException(string routine, int info)
        : base(routine, info, $"the leading minor of order {info} is not positive definite, so the matrix is not SPD")
    {
    }

    /// <summary>1-based order of the first leading minor that is not positive definite.</summary>
    public int FailedMinorOrder => Info;
}
