using Petition.Mailer;
using Petition.ServiceDefaults;

MailerApp.Create(args).RunUntilStopped();
