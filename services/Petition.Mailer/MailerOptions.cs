using MailKit.Security;

namespace Petition.Mailer;

/// <summary>Where and how signers' mails go (section "Mail"); secrets come from the environment.</summary>
public sealed class MailerOptions
{
    /// <summary>The SMTP relay. The local run and the tests use the project's Postfix on 127.0.0.1.</summary>
    public string SmtpHost { get; set; } = "127.0.0.1";

    /// <summary>Its port: 2525 in the local run (servers.sh), 587 for a submission port with STARTTLS.</summary>
    public int SmtpPort { get; set; } = 2525;

    /// <summary>None (the local Postfix), StartTls, SslOnConnect, or Auto (MailKit's choice by port).</summary>
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.None;

    /// <summary>SMTP AUTH user, when the relay asks for one (with <see cref="Password"/>).</summary>
    public string? Username { get; set; }

    /// <summary>SMTP AUTH password.</summary>
    public string? Password { get; set; }

    /// <summary>The From header.</summary>
    public string From { get; set; } = "Petition <no-reply@petition.localhost>";

    /// <summary>The public address of the intake, which serves the pages the links open (/confirm, /withdraw).</summary>
    public Uri LinkBase { get; set; } = new("http://127.0.0.1:5080");

    /// <summary>Most mails one address gets about one petition (a week), so signing in someone's name cannot flood them.</summary>
    public int MaxPerAddressPerPetition { get; set; } = 3;

    /// <summary>Most mails one address gets in a day over every petition.</summary>
    public int MaxPerAddressPerDay { get; set; } = 10;

    /// <summary>Mails being sent at once (each its own SMTP connection, kept open between mails).</summary>
    public int ConcurrencyLimit { get; set; } = 8;

    /// <summary>How long the links live: the intake's Petition:ConfirmationLifetime, which checks them.</summary>
    public TimeSpan ConfirmationLifetime { get; set; } = TimeSpan.FromDays(7);
}
