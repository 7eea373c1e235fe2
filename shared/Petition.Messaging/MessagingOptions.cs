using Petition.Contracts;

namespace Petition.Messaging;

/// <summary>Bus settings shared by the services (section "Messaging").</summary>
public sealed class MessagingOptions
{
    /// <summary>The queue of <see cref="StoreSignatures"/> commands; tests give each run its own.</summary>
    public string SignatureQueue { get; set; } = QueueNames.StoreSignatures;

    /// <summary>The queue of <see cref="SendSignerMails"/> commands (worker to mailer); tests give each system its own.</summary>
    public string MailQueue { get; set; } = QueueNames.SendSignerMail;

    /// <summary>The queue of <see cref="ConfirmSignatures"/> commands (intake to worker); tests give each system its own.</summary>
    public string ConfirmationQueue { get; set; } = QueueNames.ConfirmSignatures;

    /// <summary>How long a send may wait for the broker's confirm before the caller is told 503.</summary>
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The nodes of a RabbitMQ cluster ("host:port,host:port,..."), tried in order on every (re)connect so a
    /// stopped node is routed around; empty for a single broker, the connection string's host.
    /// </summary>
    public string? ClusterNodes { get; set; }

    /// <summary>The address MassTransit sends signature batches to.</summary>
    public Uri SignatureQueueAddress => new($"queue:{SignatureQueue}");
}
